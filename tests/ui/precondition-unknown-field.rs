use stateprop::prelude::*;

#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
struct Fd(u32);

#[derive(Clone, Debug, Default)]
struct Files;

#[derive(Debug, Clone, StateMachine)]
#[state_machine(model = Files)]
enum FileOp {
    Open,
    #[rule(precondition = |m: &Files, file: &Var<Fd>| true)]
    Close { fd: Var<Fd> },
}

impl Model for Files {
    type Op = FileOp;
    type Output = Option<Fd>;

    fn step(&mut self, _: &FileOp) -> Option<Fd> {
        None
    }
}

fn main() {}
