use stateprop::prelude::*;

#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
struct Fd(u32);

#[derive(Clone, Debug, Default)]
struct Files;

#[derive(Debug, Clone, StateMachine)]
#[state_machine(model = Files)]
enum FileOp {
    Open,
    #[consumes]
    Close {
        fd: Var<Fd>,
    },
    Write {
        #[consumes]
        len: u8,
        #[consumes(all)]
        fd: Var<Fd>,
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
