//! Tampering with audit rows directly in SQL is found by `leakguard audit verify`, which names
//! the first bad seq; an exported bundle verifies offline and a tampered one does not.

use sea_orm::{ConnectionTrait, Statement};

use crate::helpers::{Backend, TestApp, spawn_app};

async fn seeded(backend: Backend) -> (TestApp, crate::helpers::TestTenant) {
    let app = spawn_app(backend).await;
    let t = app.create_tenant("audited.myshopify.com").await;
    for i in 0..6 {
        let res = app
            .post_json(
                "/api/v1/users",
                &t.key,
                serde_json::json!({"external_id": format!("u{i}"), "display_name": "U", "role": "viewer"}),
            )
            .await;
        assert_eq!(res.status(), 201);
    }
    (app, t)
}

async fn exec(app: &TestApp, sql: &str) {
    let backend = app.state.db.get_database_backend();
    app.state
        .db
        .execute_raw(Statement::from_string(backend, sql.to_owned()))
        .await
        .unwrap();
}

fn chain_literal(app: &TestApp, id: uuid::Uuid) -> String {
    match app.backend {
        Backend::Postgres => format!("'{id}'"),
        Backend::Sqlite => format!("X'{}'", id.simple()),
    }
}

fn verify(app: &TestApp, tenant: uuid::Uuid) -> (bool, String) {
    let out = app.cli(&["audit", "verify", "--tenant", &tenant.to_string()]);
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}

async fn an_intact_chain_verifies(backend: Backend) {
    let (app, t) = seeded(backend).await;
    let (ok, text) = verify(&app, t.id);
    assert!(ok, "{text}");
    assert!(text.contains("ok\t"), "{text}");
    // The whole database, every chain including the platform one.
    let out = app.cli(&["audit", "verify"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
}

async fn an_edited_row_is_found(backend: Backend) {
    let (app, t) = seeded(backend).await;
    let chain = chain_literal(&app, t.id);
    exec(
        &app,
        &format!(
            "UPDATE audit_entries SET action = 'user.deleted' WHERE chain_id = {chain} AND seq = 4"
        ),
    )
    .await;
    let (ok, text) = verify(&app, t.id);
    assert!(!ok);
    assert!(text.contains("seq 4"), "{text}");
}

async fn an_edit_of_sealed_text_and_hash_together_breaks_the_next_link(backend: Backend) {
    let (app, t) = seeded(backend).await;
    let chain = chain_literal(&app, t.id);
    // Rewrite row 4 (a viewer added) consistently: columns, canonical text and its own hash.
    // Only the link from row 5 can tell, so the first bad seq is 5.
    let (canonical, hash): (String, String) = {
        let row = app
            .state
            .db
            .query_one_raw(Statement::from_string(
                app.state.db.get_database_backend(),
                format!("SELECT canonical FROM audit_entries WHERE chain_id = {chain} AND seq = 4"),
            ))
            .await
            .unwrap()
            .unwrap();
        let text: String = row.try_get("", "canonical").unwrap();
        let forged = text.replace("\"role\":\"viewer\"", "\"role\":\"owner\"");
        assert_ne!(forged, text);
        let hash = leakguard_domain::audit::leaf_hash(&forged);
        (forged, hash)
    };
    let details = "{\"role\":\"owner\"}";
    exec(
        &app,
        &format!(
            "UPDATE audit_entries SET canonical = '{canonical}', hash = '{hash}', details = '{details}' WHERE chain_id = {chain} AND seq = 4"
        ),
    )
    .await;
    let (ok, text) = verify(&app, t.id);
    assert!(!ok);
    assert!(text.contains("seq 5"), "{text}");
}

async fn a_deleted_row_is_found(backend: Backend) {
    let (app, t) = seeded(backend).await;
    let chain = chain_literal(&app, t.id);
    exec(
        &app,
        &format!("DELETE FROM audit_entries WHERE chain_id = {chain} AND seq = 5"),
    )
    .await;
    let (ok, text) = verify(&app, t.id);
    assert!(!ok);
    assert!(text.contains("seq 5"), "{text}");
}

async fn a_deleted_tail_is_found(backend: Backend) {
    let (app, t) = seeded(backend).await;
    let chain = chain_literal(&app, t.id);
    let last = app.audit_count(t.id).await;
    exec(
        &app,
        &format!("DELETE FROM audit_entries WHERE chain_id = {chain} AND seq = {last}"),
    )
    .await;
    let (ok, text) = verify(&app, t.id);
    assert!(!ok);
    assert!(text.contains(&format!("seq {last}")), "{text}");
}

async fn reordered_rows_are_found(backend: Backend) {
    let (app, t) = seeded(backend).await;
    let chain = chain_literal(&app, t.id);
    exec(
        &app,
        &format!("UPDATE audit_entries SET seq = 1000 WHERE chain_id = {chain} AND seq = 2"),
    )
    .await;
    exec(
        &app,
        &format!("UPDATE audit_entries SET seq = 2 WHERE chain_id = {chain} AND seq = 3"),
    )
    .await;
    exec(
        &app,
        &format!("UPDATE audit_entries SET seq = 3 WHERE chain_id = {chain} AND seq = 1000"),
    )
    .await;
    let (ok, text) = verify(&app, t.id);
    assert!(!ok);
    assert!(text.contains("seq 2"), "{text}");
}

async fn an_inserted_row_is_found(backend: Backend) {
    let (app, t) = seeded(backend).await;
    let chain = chain_literal(&app, t.id);
    // Shift rows 4.. up by one and insert a copy of row 3 at 4.
    let last = app.audit_count(t.id).await;
    for seq in (4..=last).rev() {
        exec(
            &app,
            &format!(
                "UPDATE audit_entries SET seq = {} WHERE chain_id = {chain} AND seq = {seq}",
                seq + 1
            ),
        )
        .await;
    }
    exec(
        &app,
        &format!(
            "INSERT INTO audit_entries (chain_id, seq, ts, actor_type, actor_id, action, subject_type, subject_id, details, prev_hash, hash, canonical) \
             SELECT chain_id, 4, ts, actor_type, actor_id, action, subject_type, subject_id, details, prev_hash, hash, canonical FROM audit_entries WHERE chain_id = {chain} AND seq = 3"
        ),
    )
    .await;
    let (ok, text) = verify(&app, t.id);
    assert!(!ok);
    assert!(text.contains("seq 4"), "{text}");
}

async fn an_exported_bundle_verifies_offline_and_a_tampered_one_does_not(backend: Backend) {
    let (app, t) = seeded(backend).await;
    let out_file = app.dir.path().join("bundle.json");
    let out = app.cli(&[
        "audit",
        "export",
        "--tenant",
        "audited.myshopify.com",
        "--out",
        out_file.to_str().unwrap(),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    // Offline: no configuration, no database, a fresh working directory.
    let offline = tempfile::tempdir().unwrap();
    let key_id = app.state.checkpointer.signer.key_id().to_owned();
    let verify_bundle_with = |file: &std::path::Path, key: &str| {
        std::process::Command::new(crate::helpers::binary())
            .args([
                "audit",
                "verify-bundle",
                file.to_str().unwrap(),
                "--key",
                key,
            ])
            .env_clear()
            .current_dir(offline.path())
            .output()
            .unwrap()
    };
    let verify_bundle = |file: &std::path::Path| verify_bundle_with(file, &key_id);
    let ok = verify_bundle(&out_file);
    assert!(
        ok.status.success(),
        "{}",
        String::from_utf8_lossy(&ok.stdout)
    );
    assert!(String::from_utf8_lossy(&ok.stdout).contains("1 checkpoints"));
    assert!(
        !offline.path().join("leakguard-data").exists(),
        "offline verification must not create state"
    );

    // Another key than the one expected: the bundle's own keys prove nothing.
    let stranger = app_server::crypto::AuditSigner::from_seed([9; 32]).public_key();
    let foreign = verify_bundle_with(&out_file, &stranger.public_key);
    assert!(!foreign.status.success());
    assert!(
        String::from_utf8_lossy(&foreign.stdout).contains("unknown key"),
        "{}",
        String::from_utf8_lossy(&foreign.stdout)
    );

    let mut bundle: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&out_file).unwrap()).unwrap();
    let entries = bundle["entries"].as_array_mut().unwrap();
    entries.remove(2);
    let tampered = app.dir.path().join("tampered.json");
    std::fs::write(&tampered, serde_json::to_vec(&bundle).unwrap()).unwrap();
    let bad = verify_bundle(&tampered);
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stdout).contains("seq 3"));
    let _ = t;
}

/// Rewrites a chain the way someone with write access to the database could: `edit` changes
/// entries, then every row is re-sealed (canonical text, hash, link to the previous entry) and
/// the head row follows, so the chain is consistent on its own.
async fn rewrite_chain(
    app: &TestApp,
    chain: uuid::Uuid,
    edit: impl Fn(&mut leakguard_domain::audit::Entry),
) {
    use app_server::db::entities::{audit_entries, audit_heads};
    use leakguard_domain::audit::{Actor, Entry, GENESIS_PREV, Subject, canonical_json, leaf_hash};
    use sea_orm::sea_query::Expr;
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};
    let db = &app.state.db;
    let rows = audit_entries::Entity::find()
        .filter(audit_entries::Column::ChainId.eq(chain))
        .order_by_asc(audit_entries::Column::Seq)
        .all(db)
        .await
        .unwrap();
    let mut prev = GENESIS_PREV.to_owned();
    for row in rows {
        let mut entry = Entry {
            chain,
            seq: row.seq,
            ts_ms: row.ts,
            actor: Actor::new(row.actor_type.clone(), row.actor_id.clone()),
            action: row.action.clone(),
            subject: Subject::new(row.subject_type.clone(), row.subject_id.clone()),
            details: serde_json::from_str(&row.details).unwrap(),
            prev: prev.clone(),
        };
        edit(&mut entry);
        let canonical = entry.canonical().unwrap();
        let hash = leaf_hash(&canonical);
        audit_entries::Entity::update_many()
            .col_expr(audit_entries::Column::Ts, Expr::value(entry.ts_ms))
            .col_expr(
                audit_entries::Column::Details,
                Expr::value(canonical_json(&entry.details).unwrap()),
            )
            .col_expr(
                audit_entries::Column::PrevHash,
                Expr::value(entry.prev.clone()),
            )
            .col_expr(audit_entries::Column::Hash, Expr::value(hash.clone()))
            .col_expr(audit_entries::Column::Canonical, Expr::value(canonical))
            .filter(audit_entries::Column::ChainId.eq(chain))
            .filter(audit_entries::Column::Seq.eq(row.seq))
            .exec(db)
            .await
            .unwrap();
        prev = hash;
    }
    audit_heads::Entity::update_many()
        .col_expr(audit_heads::Column::LastHash, Expr::value(prev))
        .filter(audit_heads::Column::ChainId.eq(chain))
        .exec(db)
        .await
        .unwrap();
}

async fn a_consistent_rewrite_with_its_checkpoints_deleted_is_found(backend: Backend) {
    const DAY_MS: i64 = 24 * 3600 * 1000;
    let (app, t) = seeded(backend).await;
    let now = app_server::db::now_ms();
    // Set the scene: a chain written a day ago and signed then, as the job does.
    rewrite_chain(&app, t.id, |e| e.ts_ms -= DAY_MS).await;
    let (signed, refused) = app_server::audit_chain::checkpoint_all(
        &app.state.db,
        &app.state.checkpointer,
        now - DAY_MS + 60_000,
    )
    .await
    .unwrap();
    assert!(
        signed >= 1 && refused == 0,
        "{signed} signed, {refused} refused"
    );
    let (ok, text) = verify(&app, t.id);
    assert!(
        ok,
        "an untouched old chain under its checkpoint verifies: {text}"
    );

    // The attack: make the viewer at seq 4 an owner, re-seal everything after it, delete the
    // checkpoints that would tell.
    rewrite_chain(&app, t.id, |e| {
        if e.seq == 4 {
            e.details["role"] = serde_json::json!("owner");
        }
    })
    .await;
    let chain = chain_literal(&app, t.id);
    exec(
        &app,
        &format!("DELETE FROM audit_checkpoints WHERE chain_id = {chain}"),
    )
    .await;
    let (ok, text) = verify(&app, t.id);
    assert!(!ok, "{text}");
    assert!(text.contains("no signed checkpoint covers them"), "{text}");
    assert!(text.contains("seq 1"), "{text}");

    // The checkpoint job does not bless the rewrite either.
    let (signed, refused) =
        app_server::audit_chain::checkpoint_all(&app.state.db, &app.state.checkpointer, now)
            .await
            .unwrap();
    assert_eq!(refused, 1, "{signed} signed");
    let (ok, text) = verify(&app, t.id);
    assert!(!ok, "{text}");
}

async fn a_key_registered_by_an_unverified_row_is_not_trusted(backend: Backend) {
    let (app, t) = seeded(backend).await;
    // Someone with database access appends a registration of their own key to the platform
    // chain (consistently linked) and signs the tenant's chain with it.
    let forger = app_server::crypto::AuditSigner::from_seed([9; 32]);
    let key = forger.public_key();
    let txn = app_server::db::begin_write(&app.state.db).await.unwrap();
    app_server::audit_chain::append(
        &txn,
        app_server::audit_chain::PLATFORM_CHAIN,
        &leakguard_domain::audit::Actor::system("server"),
        app_server::audit_chain::KEY_REGISTERED,
        leakguard_domain::audit::Subject::new("signing_key", key.key_id.clone()),
        serde_json::json!({"key_id": key.key_id, "public_key": key.public_key}),
    )
    .await
    .unwrap();
    txn.commit().await.unwrap();
    let forged = app_server::audit_chain::Checkpointer {
        signer: forger,
        policy: app.state.checkpointer.policy,
    };
    app_server::audit_chain::checkpoint_all(&app.state.db, &forged, app_server::db::now_ms())
        .await
        .unwrap();
    let (ok, text) = verify(&app, t.id);
    assert!(!ok, "{text}");
    assert!(text.contains("signed by an unknown key"), "{text}");
}

crate::on_both_backends!(
    a_consistent_rewrite_with_its_checkpoints_deleted_is_found,
    a_key_registered_by_an_unverified_row_is_not_trusted,
    an_intact_chain_verifies,
    an_edited_row_is_found,
    an_edit_of_sealed_text_and_hash_together_breaks_the_next_link,
    a_deleted_row_is_found,
    a_deleted_tail_is_found,
    reordered_rows_are_found,
    an_inserted_row_is_found,
    an_exported_bundle_verifies_offline_and_a_tampered_one_does_not,
);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_appends_keep_the_chain_gapless() {
    for backend in [Backend::Sqlite, Backend::Postgres] {
        if backend == Backend::Postgres && !crate::helpers::postgres_available_or_fail().await {
            continue;
        }
        let app = spawn_app(backend).await;
        let t = app.create_tenant("busy.myshopify.com").await;
        let mut tasks = Vec::new();
        for i in 0..20 {
            let client = app.client.clone();
            let url = app.url("/api/v1/users");
            let key = t.key.clone();
            tasks.push(tokio::spawn(async move {
                client
                    .post(url)
                    .bearer_auth(key)
                    .json(&serde_json::json!({"external_id": format!("c{i}"), "display_name": "C", "role": "viewer"}))
                    .send()
                    .await
                    .unwrap()
                    .status()
            }));
        }
        for task in tasks {
            assert_eq!(task.await.unwrap(), 201);
        }
        let (ok, text) = verify(&app, t.id);
        assert!(ok, "{backend:?}: {text}");
    }
}
