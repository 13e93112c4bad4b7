use stateprop::prelude::*;

#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
struct AccountId(u32);

#[derive(Clone, Debug, Default)]
struct Bank;

#[derive(Debug, Clone, StateMachine)]
#[state_machine(model = Bank)]
enum BankOp {
    Open,
    Deposit {
        #[strategy(Just(Var::at(0)))]
        account: Var<AccountId>,
        amount: u64,
    },
}

impl Model for Bank {
    type Op = BankOp;
    type Output = Option<AccountId>;

    fn step(&mut self, _: &BankOp) -> Option<AccountId> {
        None
    }
}

fn main() {}
