use stateprop::prelude::*;

#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
struct AccountId(u32);

#[derive(Clone, Debug, PartialEq)]
enum BankOut {
    Opened(u32),
    Balance(u64),
}

#[derive(Clone, Debug, Default)]
struct Bank;

#[derive(Debug, Clone, StateMachine)]
#[state_machine(model = Bank)]
enum BankOp {
    Open,
    Deposit { account: Var<AccountId>, amount: u64 },
}

impl Model for Bank {
    type Op = BankOp;
    type Output = BankOut;

    fn step(&mut self, _: &BankOp) -> BankOut {
        BankOut::Balance(0)
    }
}

fn main() {}
