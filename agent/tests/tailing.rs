//! Tailing failure cases F1–F20 of the agent spec, on real files in temp dirs with real
//! rename, truncate and unlink, and the agent restarted in-process.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::fs;
use std::os::unix::fs::MetadataExt;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};

use common::{FakeClock, Harness, admin_line, append, append_ids, assert_exactly_once};
use leakguard_domain::agent_wire::Record;

#[test]
fn f1_lines_written_around_a_rename_mid_read_arrive_exactly_once() {
    let mut harness = Harness::admin(&["app.log"]);
    let log = harness.log("app.log");
    let mut expected = append_ids(&log, "a", 0..50_000);
    let mut agent = harness.agent();
    for _ in 0..5 {
        agent.step(true, false).unwrap();
        harness.drain(&agent);
    }
    // Rotated away mid-read: the old descriptor must be drained before it is closed.
    fs::rename(&log, harness.log("app.log.1")).unwrap();
    expected.extend(append_ids(&log, "b", 0..1_000));
    harness.step_until_idle(&mut agent, 10_000);
    assert_exactly_once(&harness.server, &expected);
}

#[test]
fn f2_rotation_while_stopped_resumes_the_old_file_by_identity() {
    let mut harness = Harness::admin(&["app.log*"]);
    let log = harness.log("app.log");
    let mut expected = append_ids(&log, "a", 0..100);
    harness.run_once();
    expected.extend(append_ids(&log, "b", 0..50));
    fs::rename(&log, harness.log("app.log.1")).unwrap();
    expected.extend(append_ids(&log, "c", 0..20));
    fs::rename(harness.log("app.log.1"), harness.log("app.log.2")).unwrap();
    fs::rename(&log, harness.log("app.log.1")).unwrap();
    expected.extend(append_ids(&log, "d", 0..10));
    harness.run_once();
    assert_exactly_once(&harness.server, &expected);
}

#[test]
fn f4_copytruncate_is_detected_and_new_lines_are_shipped() {
    let mut harness = Harness::admin(&["app.log"]);
    let log = harness.log("app.log");
    let mut expected = append_ids(&log, "a", 0..100);
    let mut agent = harness.agent();
    harness.step_until_idle(&mut agent, 100);
    // A running agent sees the file shrink.
    expected.extend(append_ids(&log, "b", 0..5));
    agent.step(true, false).unwrap();
    fs::copy(&log, harness.log("app.log.1")).unwrap();
    fs::OpenOptions::new()
        .write(true)
        .open(&log)
        .unwrap()
        .set_len(0)
        .unwrap();
    expected.extend(append_ids(&log, "c", 0..10));
    harness.step_until_idle(&mut agent, 100);
    drop(agent);
    // And a stopped one does too.
    fs::OpenOptions::new()
        .write(true)
        .open(&log)
        .unwrap()
        .set_len(0)
        .unwrap();
    expected.extend(append_ids(&log, "d", 0..3));
    harness.run_once();
    assert_exactly_once(&harness.server, &expected);
    assert!(harness.events.truncations.load(Ordering::Relaxed) >= 2);
}

#[test]
fn f5_truncate_and_regrow_past_the_offset_while_stopped_is_read_from_zero() {
    let mut harness = Harness::admin(&["app.log"]);
    let log = harness.log("app.log");
    let mut expected = append_ids(&log, "a", 0..100);
    harness.run_once();
    let old_size = fs::metadata(&log).unwrap().len();
    fs::OpenOptions::new()
        .write(true)
        .open(&log)
        .unwrap()
        .set_len(0)
        .unwrap();
    expected.extend(append_ids(&log, "b", 0..300));
    assert!(fs::metadata(&log).unwrap().len() > old_size);
    harness.run_once();
    assert_exactly_once(&harness.server, &expected);
}

#[test]
fn f6_a_new_file_on_a_reused_inode_is_read_from_zero() {
    let mut harness = Harness::admin(&["*.log"]);
    let log = harness.log("app.log");
    let mut expected = append_ids(&log, "a", 0..100);
    harness.run_once();
    let old_inode = fs::metadata(&log).unwrap().ino();
    fs::remove_file(&log).unwrap();
    let mut reused = None;
    for attempt in 0..2000 {
        let candidate = harness.log(&format!("n{attempt}.log"));
        fs::write(&candidate, "").unwrap();
        if fs::metadata(&candidate).unwrap().ino() == old_inode {
            reused = Some(candidate);
            break;
        }
        fs::remove_file(&candidate).unwrap();
    }
    let reused = reused.expect("the file system never reused the inode");
    expected.extend(append_ids(&reused, "b", 0..30));
    harness.run_once();
    assert_exactly_once(&harness.server, &expected);
}

const GENERAL_HEADER: &str = "/usr/sbin/mariadbd, Version: 10.11.19-MariaDB-0+deb12u1 (Debian 12). started with:\nTcp port: 3306  Unix socket: /run/mysqld/mysqld.sock\nTime\t\t    Id Command\tArgument\n";

fn general_harness() -> Harness {
    let mut harness = Harness::admin(&["unused"]);
    harness.sources = format!(
        "[[source]]\nname = \"general\"\nkind = \"mariadb-general\"\ninclude = [{:?}]\n",
        harness.logs.join("general*.log").display().to_string()
    );
    harness
}

fn statement_count(harness: &Harness) -> u64 {
    harness
        .server
        .records()
        .iter()
        .map(|r| match r {
            Record::SqlAggregate(a) => a.count,
            _ => 0,
        })
        .sum()
}

#[test]
fn f7_files_with_identical_headers_are_tracked_separately() {
    let mut harness = general_harness();
    let body = "261128  8:18:01\t    10 Query\tSELECT 1\n";
    fs::write(
        harness.log("general-a.log"),
        format!("{GENERAL_HEADER}{body}"),
    )
    .unwrap();
    fs::write(
        harness.log("general-b.log"),
        format!("{GENERAL_HEADER}{body}"),
    )
    .unwrap();
    harness.run_once();
    let ids: std::collections::HashSet<_> = harness
        .server
        .batches
        .keys()
        .map(|(id, _)| id.clone())
        .collect();
    assert_eq!(ids.len(), 2);
    assert_eq!(statement_count(&harness), 2);
}

#[test]
fn f8_a_file_deleted_mid_read_is_drained_and_its_descriptor_closed() {
    let mut harness = Harness::admin(&["app.log"]);
    let log = harness.log("app.log");
    let expected = append_ids(&log, "a", 0..20_000);
    let mut agent = harness.agent();
    agent.step(true, false).unwrap();
    harness.drain(&agent);
    fs::remove_file(&log).unwrap();
    harness.step_until_idle(&mut agent, 10_000);
    assert_exactly_once(&harness.server, &expected);
    let deleted_fds = fs::read_dir("/proc/self/fd")
        .unwrap()
        .filter_map(|e| fs::read_link(e.ok()?.path()).ok())
        .filter(|target| target.starts_with(&harness.logs))
        .count();
    assert_eq!(deleted_fds, 0);
}

#[test]
fn f9_a_partial_last_line_is_never_shipped_or_checkpointed_across_a_restart() {
    let mut harness = Harness::admin(&["app.log"]);
    let log = harness.log("app.log");
    let mut expected = append_ids(&log, "a", 0..3);
    let line = admin_line("partial");
    let (head, tail) = line.split_at(40);
    append(&log, head);
    harness.run_once();
    assert_eq!(harness.server.request_ids().len(), 3);
    append(&log, tail);
    expected.push("partial".to_owned());
    harness.run_once();
    assert_exactly_once(&harness.server, &expected);
}

#[test]
fn f10_a_line_written_in_two_writes_is_never_split() {
    let mut harness = Harness::admin(&["app.log"]);
    let log = harness.log("app.log");
    let mut agent = harness.agent();
    let mut expected = Vec::new();
    for i in 0..20 {
        let id = format!("long{i}");
        let mut line = admin_line(&id);
        line.insert_str(1, &format!("\"pad\":\"{}\",", "x".repeat(10 * 1024)));
        let (head, tail) = line.split_at(4096);
        append(&log, head);
        agent.step(true, false).unwrap();
        append(&log, tail);
        agent.step(true, false).unwrap();
        expected.push(id);
    }
    harness.step_until_idle(&mut agent, 100);
    assert_exactly_once(&harness.server, &expected);
}

#[test]
fn f11_a_five_mib_line_is_cut_and_the_following_lines_still_ship() {
    let mut harness = Harness::admin(&["app.log"]);
    let log = harness.log("app.log");
    let mut expected = append_ids(&log, "a", 0..10);
    append(
        &log,
        &format!(
            "INSERT INTO t VALUES {}\n",
            "(1,'x'),".repeat(5 * 1024 * 1024 / 8)
        ),
    );
    expected.extend(append_ids(&log, "b", 0..10));
    harness.run_once();
    assert_exactly_once(&harness.server, &expected);
    assert_eq!(harness.events.long_lines.load(Ordering::Relaxed), 1);
    let last = harness
        .server
        .batches
        .values()
        .map(|b| b.end_offset)
        .max()
        .unwrap();
    assert_eq!(last, fs::metadata(&log).unwrap().len());
}

#[test]
fn f12_invalid_utf8_and_nul_bytes_are_counted_and_never_panic() {
    let mut harness = general_harness();
    let mut bytes = GENERAL_HEADER.as_bytes().to_vec();
    bytes.extend_from_slice(
        b"261128  8:18:01\t    10 Query\tSELECT * FROM t WHERE name = 'Ren\xe9e'\n",
    );
    bytes.extend_from_slice(b"\t\t    10 Query\tSELECT \xff FROM t\n");
    bytes.extend_from_slice(b"\t\t    10 Query\tSELECT 'a\x00b' FROM t\n");
    fs::write(harness.log("general.log"), bytes).unwrap();
    harness.run_once();
    assert_eq!(statement_count(&harness), 3);
    assert_eq!(harness.events.invalid_utf8.load(Ordering::Relaxed), 2);
    let json = serde_json::to_string(&harness.server.records()).unwrap();
    assert!(!json.contains("Ren"), "{json}");
}

#[test]
fn f13_wall_clock_jumps_do_not_move_flush_timers() {
    let mut harness = Harness::admin(&["app.log"]);
    let log = harness.log("app.log");
    let expected = append_ids(&log, "a", 0..10);
    let clock = Arc::new(FakeClock {
        mono_ms: AtomicU64::new(1_000),
        wall: AtomicI64::new(1_795_853_881),
    });
    // A 60 s linger, set through the config text.
    let text = harness
        .config_text()
        .replace("batch_linger_ms = 0", "batch_linger_ms = 60000");
    let config = agent::config::Config::parse(&text, std::path::Path::new("t.toml")).unwrap();
    let mut agent =
        agent::agent::Agent::new(&config, "agent-1", harness.events.clone(), clock.clone())
            .unwrap();
    agent.step(true, false).unwrap();
    for jump in [3600, -7200, 86_400] {
        clock.wall.fetch_add(jump, Ordering::Relaxed);
        agent.step(false, false).unwrap();
        harness.drain(&agent);
        assert!(
            harness.server.batches.is_empty(),
            "a wall-clock jump of {jump}s flushed the batch"
        );
    }
    clock.mono_ms.fetch_add(60_000, Ordering::Relaxed);
    agent.step(false, false).unwrap();
    harness.drain(&agent);
    assert_exactly_once(&harness.server, &expected);
    // Timestamps come from the log, not the clock.
    for record in harness.server.records() {
        if let Record::SecurityEvent(event) = record {
            assert_eq!(event.ts.as_deref(), Some("2026-11-28T08:00:00Z"));
        }
    }
}

#[test]
fn f14_state_of_thousands_of_deleted_files_is_pruned() {
    let mut harness = Harness::admin(&["*.log"]);
    harness.extra_config = "state_ttl_s = 0\n".to_owned();
    let mut expected = Vec::new();
    for day in 0..10_000 {
        let name = format!("2026-{:05}.log", day);
        expected.extend(append_ids(&harness.log(&name), &format!("d{day}-"), 0..1));
    }
    harness.run_once();
    assert_exactly_once(&harness.server, &expected);
    for entry in fs::read_dir(&harness.logs).unwrap() {
        fs::remove_file(entry.unwrap().path()).unwrap();
    }
    harness.run_once();
    assert_eq!(harness.events.pruned.load(Ordering::Relaxed), 10_000);
    let checkpoint = harness.state.join("sources/admin/checkpoint.json");
    assert!(fs::metadata(checkpoint).unwrap().len() < 512);
}

#[test]
fn f15_a_garbage_checkpoint_or_leftover_temp_file_never_breaks_a_start() {
    let mut harness = Harness::admin(&["app.log"]);
    let log = harness.log("app.log");
    let mut expected = append_ids(&log, "a", 0..10);
    harness.run_once();
    fs::write(
        harness.state.join("sources/admin/checkpoint.json.tmp"),
        b"{\"version\":1,\"files\":[{\"garb",
    )
    .unwrap();
    expected.extend(append_ids(&log, "b", 0..10));
    harness.run_once();
    assert_exactly_once(&harness.server, &expected);
}

#[test]
fn f16_corrupt_and_torn_spool_records_are_skipped_and_a_full_disk_pauses_reading() {
    // Corruption: spool without draining, flip a byte in the first record, cut the last one.
    let mut harness = Harness::admin(&["app.log"]);
    let log = harness.log("app.log");
    append_ids(&log, "a", 0..10_000);
    let config = harness.config();
    {
        let mut agent = harness.agent();
        agent
            .run(&config, true, &std::sync::atomic::AtomicBool::new(false))
            .unwrap();
    }
    let segment = fs::read_dir(harness.spool_dir())
        .unwrap()
        .filter_map(|e| e.ok().map(|e| e.path()))
        .find(|p| p.extension().is_some_and(|x| x == "seg"))
        .unwrap();
    let mut bytes = fs::read(&segment).unwrap();
    bytes[20] ^= 0xff;
    let len = bytes.len();
    bytes.truncate(len - 7);
    fs::write(&segment, bytes).unwrap();
    let agent = harness.agent();
    harness.drain(&agent);
    assert!(harness.events.spool_corrupt.load(Ordering::Relaxed) >= 1);
    assert!(!harness.server.batches.is_empty());
    harness.server.assert_no_overlap();
}

#[test]
fn f16_enospc_pauses_tailing_without_a_crash_and_resumes() {
    let mut harness = Harness::admin(&["app.log"]);
    let spool = harness.spool_dir();
    fs::create_dir_all(&spool).unwrap();
    let mounted = std::process::Command::new("mount")
        .args(["-t", "tmpfs", "-o", "size=64k", "tmpfs"])
        .arg(&spool)
        .status()
        .unwrap();
    assert!(mounted.success(), "mounting a small tmpfs needs root");
    struct Unmount(std::path::PathBuf);
    impl Drop for Unmount {
        fn drop(&mut self) {
            let _ = std::process::Command::new("umount").arg(&self.0).status();
        }
    }
    let _unmount = Unmount(spool.clone());
    let log = harness.log("app.log");
    // Hard-to-compress ids so the spool fills.
    let mut expected = Vec::new();
    let mut text = String::new();
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
    for i in 0..20_000u64 {
        let mut id = format!("r{i}-");
        for _ in 0..3 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            id.push_str(&format!("{x:016x}"));
        }
        text.push_str(&admin_line(&id));
        expected.push(id);
    }
    append(&log, &text);
    let mut agent = harness.agent();
    let mut full_seen = false;
    for _ in 0..200 {
        agent.step(true, false).unwrap();
        if harness.events.spool_errors.load(Ordering::Relaxed) > 0 {
            full_seen = true;
            break;
        }
    }
    assert!(full_seen, "the tiny spool never filled");
    // Deliver, which frees space once checkpoints cover it; reading resumes.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while std::time::Instant::now() < deadline {
        agent.step(true, false).unwrap();
        harness.drain(&agent);
        if agent.is_idle() && harness.server.request_ids().len() == expected.len() {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    assert_exactly_once(&harness.server, &expected);
}

#[test]
fn f17_a_full_spool_pauses_tailing_until_the_server_is_back() {
    let mut harness = Harness::admin(&["app.log"]);
    harness.extra_config =
        "batch_max_bytes = 8192\n[spool]\nmax_bytes = 8192\nsegment_bytes = 4096\n".to_owned();
    let text = harness
        .config_text()
        .replace("batch_max_bytes = 65536\n", "");
    let config = agent::config::Config::parse(&text, std::path::Path::new("t.toml")).unwrap();
    let log = harness.log("app.log");
    let expected = append_ids(&log, "a", 0..5000);
    let clock = Arc::new(agent::clock::SystemClock::default());
    let mut agent =
        agent::agent::Agent::new(&config, "agent-1", harness.events.clone(), clock).unwrap();
    // Server down: nothing is drained, the spool fills, reading pauses.
    for _ in 0..200 {
        agent.step(true, false).unwrap();
    }
    assert!(agent.is_paused());
    assert!(harness.events.spool_full.load(Ordering::Relaxed) >= 1);
    assert!(agent.spool().shared().total_bytes() <= 8192 + 8192);
    // Server back.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while std::time::Instant::now() < deadline {
        agent.step(true, false).unwrap();
        harness.drain(&agent);
        if harness.server.request_ids().len() == expected.len() && agent.is_idle() {
            break;
        }
    }
    assert_exactly_once(&harness.server, &expected);
}

#[test]
fn f18_a_tiny_file_is_shipped_and_its_identity_grows_with_it() {
    let mut harness = Harness::admin(&["debug.log"]);
    let log = harness.log("debug.log");
    fs::write(&log, "{\"event\":\"logout\",\"request_id\":\"s1\"}\n").unwrap();
    assert!(fs::metadata(&log).unwrap().len() < 50);
    harness.run_once();
    let mut expected = vec!["s1".to_owned()];
    expected.extend(append_ids(&log, "b", 0..40));
    harness.run_once();
    expected.extend(append_ids(&log, "c", 0..5));
    harness.run_once();
    assert_exactly_once(&harness.server, &expected);
    let file_ids: std::collections::HashSet<_> = harness
        .server
        .batches
        .keys()
        .map(|(id, _)| id.clone())
        .collect();
    assert_eq!(
        file_ids.len(),
        1,
        "the wire identity must not change as the head grows"
    );
}

#[test]
fn f19_the_rescan_finds_survivors_of_bursts_of_creates_and_deletes() {
    let mut harness = Harness::admin(&["*.log"]);
    let mut agent = harness.agent();
    agent.step(true, false).unwrap();
    let mut expected = Vec::new();
    for burst in 0..10 {
        for i in 0..100 {
            let path = harness.log(&format!("b{burst}-{i}.log"));
            let ids = append_ids(&path, &format!("b{burst}-{i}-"), 0..1);
            if i % 10 == 0 {
                expected.extend(ids);
            } else {
                fs::remove_file(&path).unwrap();
            }
        }
    }
    harness.step_until_idle(&mut agent, 1000);
    assert_exactly_once(&harness.server, &expected);
}

#[test]
fn f20_two_sources_sharing_a_state_dir_keep_separate_state() {
    let mut harness = Harness::admin(&["app.log"]);
    let second = harness
        .sources
        .replace("name = \"admin\"", "name = \"admin-copy\"");
    harness.sources = format!("{}\n{}", harness.sources, second);
    let log = harness.log("app.log");
    let expected = append_ids(&log, "a", 0..50);
    harness.run_once();
    harness.run_once();
    // Each source read the file once: the second source's batches carry the same dedup keys.
    assert_exactly_once(&harness.server, &expected);
    assert!(harness.server.duplicates >= 1);
    let size = fs::metadata(&log).unwrap().len();
    for name in ["admin", "admin-copy"] {
        let text = fs::read_to_string(
            harness
                .state
                .join(format!("sources/{name}/checkpoint.json")),
        )
        .unwrap();
        let checkpoint: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(checkpoint["files"][0]["offset"], size, "{name}");
    }
}

/// F1 at the spec's scale: 1,000,000 general-log lines, renamed mid-read, then 1,000 more in a
/// new file. Every statement is counted exactly once (aggregate counts add up to 1,001,000).
#[test]
fn f1_a_million_lines_renamed_mid_read_are_counted_exactly_once() {
    let mut harness = general_harness();
    harness.extra_config = "batch_max_bytes = 4194304\n".to_owned();
    let text = harness
        .config_text()
        .replace("batch_max_bytes = 65536\n", "");
    let config = agent::config::Config::parse(&text, std::path::Path::new("t.toml")).unwrap();
    let log = harness.log("general.log");
    let mut body = String::with_capacity(40 * 1_000_000);
    body.push_str("261128  8:18:01\t    10 Query\tSELECT 0\n");
    for i in 1..1_000_000 {
        body.push_str(&format!("\t\t    10 Query\tSELECT {i}\n"));
    }
    fs::write(&log, body).unwrap();
    let clock = Arc::new(agent::clock::SystemClock::default());
    let mut agent =
        agent::agent::Agent::new(&config, "agent-1", harness.events.clone(), clock).unwrap();
    agent.step(true, false).unwrap();
    harness.drain(&agent);
    // The glob only matches `general*.log`: the renamed file is drained through its descriptor.
    fs::rename(&log, harness.log("rotated.log.1")).unwrap();
    let mut tail = String::new();
    for i in 0..1_000 {
        tail.push_str(&format!("\t\t    11 Query\tSELECT {i}\n"));
    }
    fs::write(&log, tail).unwrap();
    harness.step_until_idle(&mut agent, 100_000);
    harness.server.assert_no_overlap();
    assert_eq!(statement_count(&harness), 1_001_000);
}

#[test]
fn a_batch_is_cut_by_record_count_before_its_byte_limit() {
    let mut harness = Harness::admin(&["app.log"]);
    let log = harness.log("app.log");
    let expected = append_ids(&log, "r", 0..12_000);
    let text = harness
        .config_text()
        .replace("batch_max_bytes = 65536", "batch_max_bytes = 67108864");
    let config = agent::config::Config::parse(&text, std::path::Path::new("t.toml")).unwrap();
    let clock = Arc::new(agent::clock::SystemClock::default());
    let mut agent =
        agent::agent::Agent::new(&config, "agent-1", harness.events.clone(), clock).unwrap();
    agent
        .run(&config, true, &std::sync::atomic::AtomicBool::new(false))
        .unwrap();
    harness.drain(&agent);
    assert_exactly_once(&harness.server, &expected);
    let largest = harness
        .server
        .batches
        .values()
        .map(|b| b.records.len())
        .max()
        .unwrap();
    assert!(
        harness.server.batches.len() >= 2,
        "one batch of {largest} records"
    );
    assert!(largest < 12_000);
}
