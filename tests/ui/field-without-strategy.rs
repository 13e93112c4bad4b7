use stateprop::prelude::*;

#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
struct Handle(u32);

#[derive(Clone, Debug, Default)]
struct Files;

#[derive(Debug, Clone, StateMachine)]
#[state_machine(model = Files)]
enum FileOp {
    Close { handle: Handle },
}

impl Model for Files {
    type Op = FileOp;
    type Output = ();

    fn step(&mut self, _: &FileOp) {}
}

fn main() {}
