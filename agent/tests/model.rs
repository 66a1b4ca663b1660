//! Model-based property test: random sequences of writes, partial writes, rotations,
//! copytruncates, deletions and agent restarts on a real file, checked against an
//! in-memory model of which lines must arrive (exactly once).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::collections::HashSet;
use std::fs;

use common::{Harness, admin_line, append, assert_exactly_once};
use proptest::prelude::*;

#[derive(Debug, Clone)]
enum Op {
    Write(u8),
    Partial,
    Rotate,
    CopyTruncate,
    Delete,
    Restart,
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        4 => (1u8..12).prop_map(Op::Write),
        1 => Just(Op::Partial),
        1 => Just(Op::Rotate),
        1 => Just(Op::CopyTruncate),
        1 => Just(Op::Delete),
        2 => Just(Op::Restart),
    ]
}

/// What the model knows: ids in files not yet read by a run, and ids that must arrive.
#[derive(Default)]
struct Model {
    /// (model file number, ids not yet delivered)
    unread: Vec<(u32, Vec<String>)>,
    current: u32,
    partial: Option<(String, String)>,
    delivered: Vec<String>,
    next_id: u64,
    rotations: u32,
}

impl Model {
    fn current_unread(&mut self) -> &mut Vec<String> {
        let current = self.current;
        if let Some(index) = self.unread.iter().position(|(file, _)| *file == current) {
            return &mut self.unread[index].1;
        }
        self.unread.push((current, Vec::new()));
        &mut self.unread.last_mut().unwrap().1
    }
}

fn run(ops: &[Op]) {
    let mut harness = Harness::admin(&["app.log*"]);
    let log = harness.log("app.log");
    let mut model = Model::default();
    for op in ops.iter().chain(std::iter::once(&Op::Restart)) {
        match op {
            Op::Write(n) => {
                if let Some((id, tail)) = model.partial.take() {
                    append(&log, &tail);
                    model.current_unread().push(id);
                }
                let mut text = String::new();
                for _ in 0..*n {
                    let id = format!("m{}", model.next_id);
                    model.next_id += 1;
                    text.push_str(&admin_line(&id));
                    model.current_unread().push(id);
                }
                append(&log, &text);
            }
            Op::Partial => {
                if model.partial.is_none() {
                    let id = format!("m{}", model.next_id);
                    model.next_id += 1;
                    let line = admin_line(&id);
                    let (head, tail) = line.split_at(25);
                    append(&log, head);
                    model.partial = Some((id, tail.to_owned()));
                }
            }
            Op::Rotate => {
                if log.exists() {
                    model.rotations += 1;
                    fs::rename(&log, harness.log(&format!("app.log.{}", model.rotations))).unwrap();
                    // The fragment left in the rotated file is never completed.
                    model.partial = None;
                    model.current += 1;
                }
            }
            Op::CopyTruncate => {
                if log.exists() {
                    model.rotations += 1;
                    fs::copy(
                        &log,
                        harness
                            .dir
                            .path()
                            .join(format!("copy-{}.bak", model.rotations)),
                    )
                    .unwrap();
                    fs::OpenOptions::new()
                        .write(true)
                        .open(&log)
                        .unwrap()
                        .set_len(0)
                        .unwrap();
                    // Lines no run read before the truncate are lost by design.
                    model.current_unread().clear();
                    model.partial = None;
                }
            }
            Op::Delete => {
                if log.exists() {
                    fs::remove_file(&log).unwrap();
                    model.current_unread().clear();
                    model.partial = None;
                    model.current += 1;
                }
            }
            Op::Restart => {
                harness.run_once();
                for (_, ids) in model.unread.drain(..) {
                    model.delivered.extend(ids);
                }
            }
        }
    }
    let unique: HashSet<_> = model.delivered.iter().collect();
    assert_eq!(unique.len(), model.delivered.len());
    assert_exactly_once(&harness.server, &model.delivered);
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 40, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn random_file_histories_deliver_what_the_model_says_exactly_once(ops in proptest::collection::vec(op(), 1..25)) {
        run(&ops);
    }
}
