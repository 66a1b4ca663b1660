//! The Magento module's own PHP code (`Model/Transport/Signer.php`, `Model/Sso/Jwt.php`)
//! signing real requests against this server: the two sides agree on the live wire, not only
//! on the fixture vectors. PHP is installed by `scripts/setup`; without it (outside CI) the test
//! says so loudly.

use serde_json::{Value, json};

use crate::helpers::{Backend, ModuleKey, spawn_app};

const BASE: &str = "https://php-shop.example";

fn php_available_or_fail() -> bool {
    let ok = std::process::Command::new("php")
        .arg("-v")
        .output()
        .is_ok_and(|o| o.status.success());
    if !ok {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "php is missing and CI=true"
        );
        eprintln!("WARNING: php is not installed; the module interop test did not run");
    }
    ok
}

fn php(script: &str, args: &[&str]) -> String {
    let module = concat!(env!("CARGO_MANIFEST_DIR"), "/../magento-module");
    let out = std::process::Command::new("php")
        .arg("-r")
        .arg(script)
        .arg(module)
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

const SIGN: &str = r#"
$m = $argv[1];
require "$m/Model/Clock.php";
require "$m/Model/Transport/Signer.php";
$s = new LeakGuard\Connector\Model\Transport\Signer(new LeakGuard\Connector\Model\Clock());
echo json_encode($s->headers($argv[2], $argv[3], $argv[4], $argv[5], $argv[6]));
"#;

const JWT: &str = r#"
$m = $argv[1];
require "$m/Model/Sso/Jwt.php";
$now = time();
$claims = ['iss' => $argv[3], 'aud' => 'leakguard-console', 'sub' => '12', 'name' => 'jürgen',
    'role' => 'analyst', 'iat' => $now, 'exp' => $now + 60, 'jti' => bin2hex(random_bytes(16))];
echo (new LeakGuard\Connector\Model\Sso\Jwt())->encode($claims, $argv[2]);
"#;

async fn the_modules_php_signer_and_jwt_are_accepted(backend: Backend) {
    if !php_available_or_fail() {
        return;
    }
    let app = spawn_app(backend).await;
    let t = app.create_magento_tenant(BASE).await;
    let key: ModuleKey = app.enroll_module(&t, BASE).await;
    let body = json!({"events": [{"source": "admin_action", "source_id": 1, "event": "admin_login_success",
        "admin_username": "jürgen", "note": "Grüße — 東京"}]})
    .to_string();
    for (method, path, body) in [
        ("POST", "/api/v1/magento/events", body.as_str()),
        (
            "GET",
            "/api/v1/magento/retention-policy?since=3&x=a%20b",
            "",
        ),
    ] {
        let headers: Value =
            serde_json::from_str(&php(SIGN, &[&key.key_id, &key.secret, method, path, body]))
                .unwrap();
        let mut request = app
            .client
            .request(
                reqwest::Method::from_bytes(method.as_bytes()).unwrap(),
                app.url(path),
            )
            .header("Content-Type", "application/json")
            .body(body.to_owned());
        for (name, value) in headers.as_object().unwrap() {
            request = request.header(name.as_str(), value.as_str().unwrap());
        }
        let res = request.send().await.unwrap();
        assert_eq!(res.status(), 200, "{method} {path}");
    }
    assert_eq!(app.count_rows("signals", t.id).await, 1);

    let token = php(JWT, &[&key.secret, BASE]);
    let res = app
        .client
        .get(app.url("/console/sso"))
        .query(&[("token", token.trim())])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let users: Vec<Value> = app.get("/api/v1/users", &t.key).await.json().await.unwrap();
    let user = users
        .iter()
        .find(|u| u["external_id"] == "magento:12")
        .unwrap();
    assert_eq!(user["role"], "analyst");
    assert_eq!(user["display_name"], "jürgen");
}

crate::on_both_backends!(the_modules_php_signer_and_jwt_are_accepted);
