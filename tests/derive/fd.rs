//! Descriptors handed out by an `Open` step, shared by the machines that name them through
//! `Var<Fd>` (arguments, retiring through the model, `#[consumes]`).

use stateprop::FromOutput;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Fd(pub u32);

#[derive(Debug, Clone, PartialEq)]
pub enum Out {
    Opened(Fd),
    Done,
}

impl FromOutput<Out> for Fd {
    fn from_output(output: &Out) -> Option<Fd> {
        match output {
            Out::Opened(fd) => Some(*fd),
            _ => None,
        }
    }
}
