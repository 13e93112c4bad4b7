//! The passes that change a program's shape: drop a branch, delete steps, move a branch's step
//! into the prefix, put the branches in order.

use super::repair::repair;
use super::{simpler_program, Current, Seq, Shrinker, Try};
use crate::spec::Model;

impl<M: Model> Shrinker<'_, M> {
    /// Drops whole branches, one at a time: a race between two branches rarely needs a third.
    pub(super) fn drop_branches(&mut self, cur: &mut Current<M::Op>) -> bool {
        let mut changed = false;
        let mut b = 0;
        while b < cur.program.branches.len() {
            if self.out_of_budget() {
                return changed;
            }
            let mut plan = cur.program.ids();
            plan.branches.remove(b);
            if self.try_plan(cur, &plan, Vec::new()) == Try::Adopted {
                changed = true;
            } else {
                b += 1;
            }
        }
        changed
    }

    /// Deletes runs of steps within the prefix, then within each branch, halving the run length
    /// down to single steps; a pass over single steps that deletes nothing is what makes the
    /// result 1-minimal. A deletion renumbers only later steps of its own sequence.
    pub(super) fn delete_chunks(&mut self, cur: &mut Current<M::Op>) -> bool {
        self.delete_runs(cur, false)
    }

    /// Deletes single steps only: after a pass that changed values, not steps, what may newly
    /// go is a step or two, and halving chunks first would cost runs for nothing.
    pub(super) fn delete_singles(&mut self, cur: &mut Current<M::Op>) -> bool {
        self.delete_runs(cur, true)
    }

    fn delete_runs(&mut self, cur: &mut Current<M::Op>, singles: bool) -> bool {
        let mut changed = self.delete_chunks_in(cur, Seq::Prefix, singles);
        // Adoptions may drop branches (emptied, or cut after a failing prefix step): the count
        // is read again every time.
        let mut b = 0;
        while b < cur.program.branches.len() {
            changed |= self.delete_chunks_in(cur, Seq::Branch(b), singles);
            b += 1;
        }
        changed
    }

    fn delete_chunks_in(&mut self, cur: &mut Current<M::Op>, seq: Seq, singles: bool) -> bool {
        let mut changed = false;
        let mut size = if singles {
            1
        } else {
            (seq.len(&cur.program) / 2).max(1)
        };
        loop {
            let mut start = 0;
            while start + size <= seq.len(&cur.program) {
                if self.out_of_budget() {
                    return changed;
                }
                let plan = Self::keep_in(cur, seq, |i| i < start || i >= start + size);
                if self.try_plan(cur, &plan, Vec::new()) == Try::Adopted {
                    changed = true;
                } else {
                    start += if size == 1 { 1 } else { size };
                }
            }
            if size == 1 {
                return changed;
            }
            size /= 2;
        }
    }

    /// Moves each branch's steps, first ones first, to the end of the prefix. A race that needs
    /// one step per branch often needs some setup too; once the setup runs before the branches
    /// start, the program shows which steps race. A step moved ahead of an earlier step of its
    /// branch that it names by `Var` is dropped by the repair: that candidate is a deletion.
    pub(super) fn move_into_prefix(&mut self, cur: &mut Current<M::Op>) -> bool {
        let mut changed = false;
        let mut b = 0;
        while b < cur.program.branches.len() {
            let mut i = 0;
            while i < Seq::Branch(b).len(&cur.program) {
                if self.out_of_budget() {
                    return changed;
                }
                let mut plan = cur.program.ids();
                let moved = plan.branches[b].remove(i);
                plan.prefix.push(moved);
                // On adoption the next step of the branch slides into place `i`.
                if self.try_plan(cur, &plan, Vec::new()) == Try::Adopted {
                    changed = true;
                } else {
                    i += 1;
                }
            }
            b += 1;
        }
        changed
    }

    /// Swaps neighbouring branches where the program with them swapped is simpler (the order of
    /// simplicity compares the text once the sizes tie), so a race reported as `[Move] ‖ [Get]`
    /// by one seed and `[Get] ‖ [Move]` by another comes out in one order when both fail. The
    /// swap is run only if it is simpler, so swaps cannot undo one another.
    pub(super) fn order_branches(&mut self, cur: &mut Current<M::Op>) -> bool {
        let mut changed = false;
        // The count is read afresh: an adopted swap may lose a branch the repair left empty.
        let mut b = 1;
        while b < cur.program.branches.len() {
            b += 1;
            let b = b - 1;
            if self.out_of_budget() {
                return changed;
            }
            let mut plan = cur.program.ids();
            plan.branches.swap(b - 1, b);
            let swapped = repair(self.initial, &cur.program, &plan, &[]).program;
            if !simpler_program(&swapped, &cur.program) {
                continue;
            }
            changed |= self.try_plan(cur, &plan, Vec::new()) == Try::Adopted;
        }
        changed
    }
}
