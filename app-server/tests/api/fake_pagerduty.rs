//! A local receiver that answers like PagerDuty's Events API v2 (`POST /v2/enqueue`, 202 with
//! `{"status":"success","dedup_key"}`), or fails the way the tests tell it to: a 5xx, a 400
//! with PagerDuty's error body, or no answer at all. It keeps every body it received.

use actix_web::{App, HttpResponse, HttpServer, web};
use std::sync::{Arc, Mutex};

/// How the receiver answers the next requests.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// 202 success.
    Accept,
    /// This status with a JSON error body.
    Fail(u16),
    /// Keep the request and never answer.
    Hang,
}

struct State {
    mode: Mode,
    bodies: Vec<serde_json::Value>,
}

/// The running receiver.
pub struct FakePagerDuty {
    pub events_url: String,
    state: Arc<Mutex<State>>,
}

async fn enqueue(
    state: web::Data<Arc<Mutex<State>>>,
    body: web::Json<serde_json::Value>,
) -> HttpResponse {
    let mode = {
        let mut s = state.lock().unwrap();
        s.bodies.push(body.0.clone());
        s.mode
    };
    match mode {
        Mode::Accept => HttpResponse::Accepted().json(serde_json::json!({
            "status": "success", "message": "Event processed", "dedup_key": body.0["dedup_key"],
        })),
        Mode::Fail(status) => HttpResponse::build(
            actix_web::http::StatusCode::from_u16(status).unwrap(),
        )
        .json(serde_json::json!({
            "status": "invalid event", "message": "Event object is invalid",
            "errors": ["'payload.severity' is invalid"],
        })),
        Mode::Hang => {
            tokio::time::sleep(std::time::Duration::from_secs(3600)).await;
            HttpResponse::Accepted().finish()
        }
    }
}

impl FakePagerDuty {
    pub async fn start() -> Self {
        let state = Arc::new(Mutex::new(State {
            mode: Mode::Accept,
            bodies: Vec::new(),
        }));
        let data = web::Data::new(state.clone());
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let server = HttpServer::new(move || {
            App::new()
                .app_data(data.clone())
                .route("/v2/enqueue", web::post().to(enqueue))
        })
        .workers(1)
        .disable_signals()
        .listen(listener)
        .unwrap()
        .run();
        tokio::spawn(server);
        Self {
            events_url: format!("http://127.0.0.1:{port}/v2/enqueue"),
            state,
        }
    }

    pub fn set_mode(&self, mode: Mode) {
        self.state.lock().unwrap().mode = mode;
    }

    /// Every body received so far.
    pub fn bodies(&self) -> Vec<serde_json::Value> {
        self.state.lock().unwrap().bodies.clone()
    }

    /// Waits (briefly, polling) until `n` bodies have arrived.
    pub async fn wait_for(&self, n: usize) {
        for _ in 0..200 {
            if self.bodies().len() >= n {
                return;
            }
            tokio::time::sleep(std::time::Duration::from_millis(25)).await;
        }
        panic!("the receiver got {} requests, not {n}", self.bodies().len());
    }
}
