//! The real agent binary ships a MariaDB general log to the real server binary: enrollment with a
//! one-time token, a batch stored with the agent's health visible to the tenant, no literal of
//! the log on the server, and a second run of the agent adds nothing.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::process::{Command, Output};
use std::time::{Duration, Instant};

fn leakguard(dir: &std::path::Path, args: &[&str]) -> Output {
    Command::new(e2e::binary("leakguard"))
        .args(args)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("LEAKGUARD_DATA_DIR", dir)
        .env("LEAKGUARD_LOG_LEVEL", "warn")
        .output()
        .unwrap()
}

fn json_of(out: &Output) -> serde_json::Value {
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_agent_ships_a_general_log_to_the_server_once() {
    for bin in ["leakguard", "leakguard-agent"] {
        assert!(
            e2e::binary(bin).exists(),
            "{bin} is not built next to the tests"
        );
    }
    let data = tempfile::tempdir().unwrap();
    let created = json_of(&leakguard(
        data.path(),
        &[
            "tenant",
            "create",
            "--platform",
            "magento",
            "--base-url",
            "https://e2e.example.com",
        ],
    ));
    let api_key = created["owner_api_key"].as_str().unwrap().to_owned();
    let token = json_of(&leakguard(
        data.path(),
        &["agent", "token", "--tenant", "https://e2e.example.com"],
    ));
    let token = token["token"].as_str().unwrap().to_owned();

    let port = e2e::free_port().unwrap();
    let server = e2e::Server {
        child: Command::new(e2e::binary("leakguard"))
            .arg("serve")
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("LEAKGUARD_DATA_DIR", data.path())
            .env("LEAKGUARD_LISTEN", format!("127.0.0.1:{port}"))
            .env("LEAKGUARD_LOG_LEVEL", "warn")
            .spawn()
            .unwrap(),
        port,
    };
    let base = format!("http://127.0.0.1:{}", server.port);
    let client = reqwest::Client::new();
    let started = Instant::now();
    while client
        .get(format!("{base}/readyz"))
        .send()
        .await
        .map(|r| r.status() != 200)
        .unwrap_or(true)
    {
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "server not ready"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    // A MariaDB 10.11 general log with personal data in its literals.
    let host = tempfile::tempdir().unwrap();
    let log = host.path().join("general.log");
    std::fs::write(
        &log,
        "/usr/sbin/mariadbd, Version: 10.11.19-MariaDB-0+deb12u1 (Debian 12). started with:\n\
         Tcp port: 3306  Unix socket: /run/mysqld/mysqld.sock\n\
         Time\t\t    Id Command\tArgument\n\
         261128  8:18:01\t    10 Connect\tmagento@127.0.0.1 on magento using TCP/IP\n\
         \t\t    10 Query\tSELECT entity_id, email FROM customer_entity WHERE email = 'jane.roe@example.com'\n\
         \t\t    10 Query\tSELECT * FROM customer_entity\n\
         \t\t    10 Query\tSELECT * FROM customer_entity\n\
         \t\t    10 Query\tSELECT * FROM sales_order WHERE customer_email = 'john.doe@example.org'\n\
         \t\t    10 Quit\t\n",
    )
    .unwrap();
    let state = host.path().join("state");
    let config = host.path().join("agent.toml");
    std::fs::write(
        &config,
        format!(
            "[agent]\nserver = {base:?}\nstate_dir = {state:?}\nstatus_listen = \"\"\n\n\
             [[source]]\nname = \"general\"\nkind = \"mariadb-general\"\ninclude = [{log:?}]\n"
        ),
    )
    .unwrap();
    let agent = |args: &[&str]| {
        let out = Command::new(e2e::binary("leakguard-agent"))
            .args(args)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "agent {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        out
    };
    let config_arg = config.to_str().unwrap();
    agent(&[
        "enroll", "--server", &base, "--token", &token, "--config", config_arg,
    ]);
    // The token is single use.
    let again = Command::new(e2e::binary("leakguard-agent"))
        .args([
            "enroll", "--server", &base, "--token", &token, "--config", config_arg,
        ])
        .output()
        .unwrap();
    assert!(
        !again.status.success(),
        "a used enrollment token must be refused"
    );

    agent(&["run", "--config", config_arg, "--once"]);
    let agents: Vec<serde_json::Value> = client
        .get(format!("{base}/api/v1/agents"))
        .bearer_auth(&api_key)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(agents.len(), 1, "{agents:?}");
    let first = agents[0].clone();
    assert!(first["batches"].as_i64().unwrap() >= 1, "{first}");
    assert!(first["records"].as_i64().unwrap() >= 1, "{first}");
    assert!(
        first["last_seen_at"]
            .as_str()
            .is_some_and(|t| t.ends_with('Z')),
        "{first}"
    );

    // Nothing of the literals reached the server's store.
    drop(server);
    let db = std::fs::read(data.path().join("leakguard.db")).unwrap();
    let wal = std::fs::read(data.path().join("leakguard.db-wal")).unwrap_or_default();
    for secret in ["jane.roe@example.com", "john.doe@example.org"] {
        for bytes in [&db, &wal] {
            assert!(
                !bytes.windows(secret.len()).any(|w| w == secret.as_bytes()),
                "{secret} reached the server"
            );
        }
    }

    // A restart of both: the agent has nothing new to send, and the server stores nothing twice.
    let server = e2e::Server {
        child: Command::new(e2e::binary("leakguard"))
            .arg("serve")
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("LEAKGUARD_DATA_DIR", data.path())
            .env("LEAKGUARD_LISTEN", format!("127.0.0.1:{port}"))
            .env("LEAKGUARD_LOG_LEVEL", "warn")
            .spawn()
            .unwrap(),
        port,
    };
    let started = Instant::now();
    while client
        .get(format!("{base}/readyz"))
        .send()
        .await
        .map(|r| r.status() != 200)
        .unwrap_or(true)
    {
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "server not ready after restart"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    agent(&["run", "--config", config_arg, "--once"]);
    let agents: Vec<serde_json::Value> = client
        .get(format!("{base}/api/v1/agents"))
        .bearer_auth(&api_key)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(agents[0]["batches"], first["batches"]);
    assert_eq!(agents[0]["records"], first["records"]);
    drop(server);
}
