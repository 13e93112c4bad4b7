// The bank example's model and system, shared with the tests.

use stateprop::prelude::*;
use std::collections::BTreeMap;

/// An account handle, chosen by the bank.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct AccountId(pub u64);

#[derive(Debug, Clone, PartialEq)]
pub enum BankOut {
    Opened(AccountId),
    Balance(u64),
    Done,
    Insufficient,
}

impl FromOutput<BankOut> for AccountId {
    fn from_output(output: &BankOut) -> Option<Self> {
        match output {
            BankOut::Opened(id) => Some(*id),
            _ => None,
        }
    }
}

/// The model: balances by the ids the model itself hands out (0, 1, 2, ...).
#[derive(Debug, Clone, Default)]
pub struct Ledger {
    pub balances: BTreeMap<AccountId, u64>,
}

#[derive(Debug, Clone, StateMachine)]
#[state_machine(model = Ledger)]
pub enum BankOp {
    #[rule(precondition = |m: &Ledger| m.balances.len() < 4)]
    Open {
        #[strategy(0..1000u64)]
        initial: u64,
    },
    #[rule(weight = 2)]
    Deposit {
        account: Var<AccountId>,
        #[strategy(0..1000u64)]
        amount: u64,
    },
    #[rule(weight = 2)]
    Withdraw {
        account: Var<AccountId>,
        #[strategy(0..1000u64)]
        amount: u64,
    },
    #[rule(weight = 2)]
    Transfer {
        from: Var<AccountId>,
        to: Var<AccountId>,
        #[strategy(0..1000u64)]
        amount: u64,
    },
    #[rule(weight = 3)]
    Balance { account: Var<AccountId> },
}

impl Model for Ledger {
    type Op = BankOp;
    type Output = BankOut;

    fn step(&mut self, op: &BankOp) -> BankOut {
        match op {
            BankOp::Open { initial } => {
                let id = AccountId(self.balances.len() as u64);
                self.balances.insert(id, *initial);
                BankOut::Opened(id)
            }
            BankOp::Deposit { account, amount } => {
                *self.balances.get_mut(account).expect("open account") += amount;
                BankOut::Done
            }
            BankOp::Withdraw { account, amount } => {
                let balance = self.balances.get_mut(account).expect("open account");
                if *balance < *amount {
                    return BankOut::Insufficient;
                }
                *balance -= amount;
                BankOut::Done
            }
            BankOp::Transfer { from, to, amount } => {
                if self.balances[from] < *amount {
                    return BankOut::Insufficient;
                }
                *self.balances.get_mut(from).expect("open") -= amount;
                *self.balances.get_mut(to).expect("open") += amount;
                BankOut::Done
            }
            BankOp::Balance { account } => BankOut::Balance(self.balances[account]),
        }
    }

    /// The bank picks its own ids, so any `Opened` answers an `Open`.
    fn outputs_match(&self, _op: &BankOp, expected: &BankOut, actual: &BankOut) -> bool {
        match (expected, actual) {
            (BankOut::Opened(_), BankOut::Opened(_)) => true,
            _ => expected == actual,
        }
    }
}

/// The system under test: accounts in a vector, behind ids that look nothing like indices.
#[derive(Debug, Default)]
pub struct Bank {
    accounts: Vec<(AccountId, u64)>,
}

impl Bank {
    fn slot(&self, id: AccountId) -> usize {
        self.accounts
            .iter()
            .position(|(a, _)| *a == id)
            .expect("unknown account")
    }

    pub fn open(&mut self, initial: u64) -> AccountId {
        let id = AccountId(0x9E37_79B9 ^ (self.accounts.len() as u64 * 7919));
        self.accounts.push((id, initial));
        id
    }

    pub fn transfer(&mut self, from: AccountId, to: AccountId, amount: u64) -> bool {
        let (f, t) = (self.slot(from), self.slot(to));
        let (from_balance, to_balance) = (self.accounts[f].1, self.accounts[t].1);
        if from_balance < amount {
            return false;
        }
        // BUG: both balances were read before either write, so a transfer to the same account
        // creates money. The fix: `if f == t { return true; }` before the reads.
        self.accounts[f].1 = from_balance - amount;
        self.accounts[t].1 = to_balance + amount;
        true
    }
}

impl System<Ledger> for Bank {
    fn apply(&mut self, op: &BankOp) -> BankOut {
        match op {
            BankOp::Open { initial } => BankOut::Opened(self.open(*initial)),
            BankOp::Deposit { account, amount } => {
                let s = self.slot(**account);
                self.accounts[s].1 += amount;
                BankOut::Done
            }
            BankOp::Withdraw { account, amount } => {
                let s = self.slot(**account);
                if self.accounts[s].1 < *amount {
                    return BankOut::Insufficient;
                }
                self.accounts[s].1 -= amount;
                BankOut::Done
            }
            BankOp::Transfer { from, to, amount } => {
                if self.transfer(**from, **to, *amount) {
                    BankOut::Done
                } else {
                    BankOut::Insufficient
                }
            }
            BankOp::Balance { account } => BankOut::Balance(self.accounts[self.slot(**account)].1),
        }
    }
}
