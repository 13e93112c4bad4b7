use stateprop::prelude::*;

#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
struct Fd(u32);

#[derive(Clone, Debug, Default)]
struct Files;

#[derive(Debug, Clone, StateMachine)]
#[state_machine(model = Files)]
enum FileOp {
    Open,
    Write {
        fd: Var<Fd>,
        #[strategy(|_m: &Files, fd: &Var<Fd>| 0..10u8)]
        byte: u8,
    },
}

impl Model for Files {
    type Op = FileOp;
    type Output = Option<Fd>;

    fn step(&mut self, _: &FileOp) -> Option<Fd> {
        None
    }
}

fn main() {}
