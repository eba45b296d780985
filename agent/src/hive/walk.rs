//! [`Key::walk`](super::Key::walk): every key below one, visited once each, within budgets.
//!
//! A hive is hostile input: a subkey list may point back to its own key or an ancestor (the
//! walk then ran for ever and a 256 KiB NTUSER.DAT became a 548 MB `.reg`), list one key
//! under two parents, or nest deeper than Windows allows. The walk keeps an explicit stack
//! (no recursion to overflow), remembers every key cell it visited, stops at its key budget
//! and depth ([`limits::REGISTRY_WALK_MAX_KEYS`], [`limits::REGISTRY_MAX_DEPTH`]), and says
//! what it left out and why.

use std::collections::HashSet;
use std::fmt;

use nt_hive::{KeyNode, SubKeyNodes};

use super::{decode_value, Value};
use crate::limits;

/// What the visitor of [`Key::walk`] wants next.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Visit {
    Continue,
    /// End the walk here (the caller's own budget is spent).
    Stop,
}

/// What a [`Key::walk`] did not visit, and why. Paths are relative to the walk's start.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WalkProblem {
    /// The subkey list of `path`'s parent leads to a key already visited: back to the key
    /// itself or an ancestor (`ancestor`, when it is one), or to a key listed twice. The
    /// hive is damaged; the key is not visited again.
    Revisited {
        path: String,
        ancestor: Option<String>,
    },
    /// Nested deeper than [`limits::REGISTRY_MAX_DEPTH`]: not visited.
    TooDeep { path: String },
    /// The key budget was spent before `path`; nothing after it was visited.
    OutOfKeys { path: String },
    /// A subkey list, key name or value that does not read: left out.
    Damaged { path: String, reason: String },
}

impl fmt::Display for WalkProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            WalkProblem::Revisited {
                ancestor: Some(a), ..
            } => write!(
                f,
                "the subkey list of its parent leads back to {}: the hive is damaged; the loop is not followed",
                if a.is_empty() { "the key the walk started at" } else { a }
            ),
            WalkProblem::Revisited { ancestor: None, .. } => f.write_str(
                "a key already read is listed again here: the hive is damaged; it is read once",
            ),
            WalkProblem::TooDeep { .. } => write!(
                f,
                "nested deeper than {} keys: not read",
                limits::REGISTRY_MAX_DEPTH
            ),
            WalkProblem::OutOfKeys { .. } => write!(
                f,
                "more than {} keys to read: this key and the ones after it are not read",
                limits::REGISTRY_WALK_MAX_KEYS
            ),
            WalkProblem::Damaged { reason, .. } => write!(f, "damaged, left out: {reason}"),
        }
    }
}

impl WalkProblem {
    /// The same problem with its paths rewritten by `f` (e.g. to full key names).
    pub fn with_paths(self, f: impl Fn(&str) -> String) -> WalkProblem {
        match self {
            WalkProblem::Revisited { path, ancestor } => WalkProblem::Revisited {
                path: f(&path),
                ancestor: ancestor.map(|a| f(&a)),
            },
            WalkProblem::TooDeep { path } => WalkProblem::TooDeep { path: f(&path) },
            WalkProblem::OutOfKeys { path } => WalkProblem::OutOfKeys { path: f(&path) },
            WalkProblem::Damaged { path, reason } => WalkProblem::Damaged {
                path: f(&path),
                reason,
            },
        }
    }

    pub fn path(&self) -> &str {
        match self {
            WalkProblem::Revisited { path, .. }
            | WalkProblem::TooDeep { path }
            | WalkProblem::OutOfKeys { path }
            | WalkProblem::Damaged { path, .. } => path,
        }
    }
}

/// How a [`Key::walk`] went.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WalkReport {
    /// Keys visited.
    pub keys: usize,
    /// The first [`MAX_WALK_PROBLEMS`] problems met.
    pub problems: Vec<WalkProblem>,
    /// Problems met beyond those.
    pub more_problems: usize,
    /// The visitor stopped the walk.
    pub stopped: bool,
}

/// Problems one walk lists one by one; a hostile hive can hold millions of loops.
pub const MAX_WALK_PROBLEMS: usize = 100;

/// One key on the way down: its remaining subkeys, its cell and where its path ends.
struct Frame<'h> {
    subkeys: Option<SubKeyNodes<'h, &'h [u8]>>,
    cell: usize,
    path_len: usize,
}

/// The state of one [`Key::walk`]: an explicit stack (no recursion, so no stack overflow
/// on a deep hive), the cells visited, and the budgets.
pub(super) struct Walker<'w> {
    keys_left: &'w mut usize,
    visit: &'w mut dyn FnMut(&str, &[Value]) -> Visit,
    report: WalkReport,
}

impl<'w> Walker<'w> {
    pub(super) fn new(
        keys_left: &'w mut usize,
        visit: &'w mut dyn FnMut(&str, &[Value]) -> Visit,
    ) -> Self {
        Walker {
            keys_left,
            visit,
            report: WalkReport::default(),
        }
    }

    pub(super) fn finish(self) -> WalkReport {
        self.report
    }

    pub(super) fn problem(&mut self, p: WalkProblem) {
        if self.report.problems.len() < MAX_WALK_PROBLEMS {
            self.report.problems.push(p);
        } else {
            self.report.more_problems += 1;
        }
    }

    /// Walks from `start` (visited first, as "").
    pub(super) fn run<'h>(&mut self, start: KeyNode<'h, &'h [u8]>) {
        let mut seen: HashSet<usize> = HashSet::new();
        let mut stack: Vec<Frame<'h>> = Vec::new();
        let mut path = String::new();
        if !self.enter(&start, &path, &mut seen, &mut stack) {
            return;
        }
        while let Some(top) = stack.last_mut() {
            let next = top.subkeys.as_mut().and_then(Iterator::next);
            let parent_len = top.path_len;
            let child = match next {
                None => {
                    stack.pop();
                    continue;
                }
                Some(Err(e)) => {
                    // An iterator that failed once is not trusted to move on.
                    top.subkeys = None;
                    path.truncate(parent_len);
                    self.problem(WalkProblem::Damaged {
                        path: path.clone(),
                        reason: format!("subkey list: {e}"),
                    });
                    continue;
                }
                Some(Ok(child)) => child,
            };
            path.truncate(parent_len);
            let name = match child.name() {
                Ok(n) => n.to_string_lossy(),
                Err(e) => {
                    self.problem(WalkProblem::Damaged {
                        path: path.clone(),
                        reason: format!("a subkey's name: {e}"),
                    });
                    continue;
                }
            };
            if !path.is_empty() {
                path.push('\\');
            }
            path.push_str(&name);
            if stack.len() > limits::REGISTRY_MAX_DEPTH {
                self.problem(WalkProblem::TooDeep { path: path.clone() });
                continue;
            }
            if !seen.insert(child.cell_offset()) {
                // An ancestor's path is a prefix of this one.
                let ancestor = stack
                    .iter()
                    .find(|f| f.cell == child.cell_offset())
                    .and_then(|f| path.get(..f.path_len))
                    .map(str::to_string);
                self.problem(WalkProblem::Revisited {
                    path: path.clone(),
                    ancestor,
                });
                continue;
            }
            if !self.enter(&child, &path, &mut seen, &mut stack) {
                return;
            }
        }
    }

    /// Visits one key and pushes it; false when the walk must end.
    fn enter<'h>(
        &mut self,
        node: &KeyNode<'h, &'h [u8]>,
        path: &str,
        seen: &mut HashSet<usize>,
        stack: &mut Vec<Frame<'h>>,
    ) -> bool {
        if *self.keys_left == 0 {
            self.problem(WalkProblem::OutOfKeys {
                path: path.to_string(),
            });
            return false;
        }
        *self.keys_left -= 1;
        self.report.keys += 1;
        seen.insert(node.cell_offset());
        let mut values = Vec::new();
        let mut bad_value = None;
        match node.values() {
            None => {}
            Some(Err(e)) => bad_value = Some(format!("value list: {e}")),
            Some(Ok(iter)) => {
                for v in iter {
                    match v.map_err(|e| e.to_string()).and_then(|v| decode_value(&v)) {
                        Ok(val) => values.push(val),
                        Err(e) => bad_value = bad_value.or(Some(format!("a value: {e}"))),
                    }
                }
            }
        }
        if let Some(reason) = bad_value {
            self.problem(WalkProblem::Damaged {
                path: path.to_string(),
                reason,
            });
        }
        if (self.visit)(path, &values) == Visit::Stop {
            self.report.stopped = true;
            return false;
        }
        let subkeys = match node.subkeys() {
            None => None,
            Some(Ok(it)) => Some(it),
            Some(Err(e)) => {
                self.problem(WalkProblem::Damaged {
                    path: path.to_string(),
                    reason: format!("subkey list: {e}"),
                });
                None
            }
        };
        stack.push(Frame {
            subkeys,
            cell: node.cell_offset(),
            path_len: path.len(),
        });
        true
    }
}
