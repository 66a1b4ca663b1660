//! Accuracy regression test: runs the JSON-lines runner over a labeled sample made by
//! `scripts/eval-classify/generate.py --seed 7 --count 300` and checks precision, recall and F1
//! with the evaluator's matching rule (same type, same field, overlapping span).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use leakguard_domain::classify::run_jsonl;
use serde_json::Value;
use std::collections::{BTreeMap, HashMap};

const SAMPLE: &str = include_str!("data/classify_sample.jsonl");
const DECOY_KINDS: [&str; 2] = ["decoy_shipping_log", "decoy_product"];

#[derive(Clone)]
struct Span {
    entity_type: String,
    start: u64,
    end: u64,
    field: Option<String>,
}

fn spans(items: &Value) -> Vec<Span> {
    items
        .as_array()
        .unwrap()
        .iter()
        .map(|item| Span {
            entity_type: item["type"].as_str().unwrap().to_owned(),
            start: item["start"].as_u64().unwrap(),
            end: item["end"].as_u64().unwrap(),
            field: item.get("field").and_then(Value::as_str).map(str::to_owned),
        })
        .collect()
}

fn matches(a: &Span, b: &Span) -> bool {
    a.entity_type == b.entity_type && a.field == b.field && a.start < b.end && b.start < a.end
}

#[derive(Default, Debug)]
struct Counts {
    gold: u64,
    predicted: u64,
    correct_predictions: u64,
    found_gold: u64,
}

impl Counts {
    fn precision(&self) -> f64 {
        if self.predicted == 0 {
            1.0
        } else {
            self.correct_predictions as f64 / self.predicted as f64
        }
    }
    fn recall(&self) -> f64 {
        if self.gold == 0 {
            1.0
        } else {
            self.found_gold as f64 / self.gold as f64
        }
    }
    fn f1(&self) -> f64 {
        let (p, r) = (self.precision(), self.recall());
        if p + r == 0.0 {
            0.0
        } else {
            2.0 * p * r / (p + r)
        }
    }
}

#[test]
fn the_labeled_sample_is_classified_with_high_precision_and_recall() {
    // Feed the runner the corpus without its labels, as a user would.
    let mut input = String::new();
    let mut gold: HashMap<String, (String, Vec<Span>)> = HashMap::new();
    for line in SAMPLE.lines() {
        let mut item: Value = serde_json::from_str(line).unwrap();
        let id = item["id"].as_str().unwrap().to_owned();
        let kind = item["kind"].as_str().unwrap().to_owned();
        gold.insert(id, (kind, spans(&item["labels"])));
        let object = item.as_object_mut().unwrap();
        object.remove("labels");
        object.remove("kind");
        input.push_str(&serde_json::to_string(&item).unwrap());
        input.push('\n');
    }
    let mut output = Vec::new();
    let stats = run_jsonl(input.as_bytes(), &mut output, &mut |_| {}).unwrap();
    assert_eq!(stats.records, 300);
    assert_eq!(stats.errors, 0);

    let mut per_type: BTreeMap<String, Counts> = BTreeMap::new();
    let mut decoy_findings = 0;
    for line in String::from_utf8(output).unwrap().lines() {
        let result: Value = serde_json::from_str(line).unwrap();
        let (kind, labels) = &gold[result["id"].as_str().unwrap()];
        let predicted = spans(&result["entities"]);
        if DECOY_KINDS.contains(&kind.as_str()) {
            decoy_findings += predicted.len();
        }
        for label in labels {
            let counts = per_type.entry(label.entity_type.clone()).or_default();
            counts.gold += 1;
            counts.found_gold += u64::from(predicted.iter().any(|p| matches(p, label)));
        }
        for prediction in &predicted {
            let counts = per_type.entry(prediction.entity_type.clone()).or_default();
            counts.predicted += 1;
            counts.correct_predictions += u64::from(labels.iter().any(|l| matches(prediction, l)));
        }
    }

    let mut all = Counts::default();
    let mut report = String::new();
    for (entity_type, counts) in &per_type {
        report.push_str(&format!(
            "{entity_type}: gold {} P {:.3} R {:.3} F1 {:.3}\n",
            counts.gold,
            counts.precision(),
            counts.recall(),
            counts.f1()
        ));
        all.gold += counts.gold;
        all.predicted += counts.predicted;
        all.correct_predictions += counts.correct_predictions;
        all.found_gold += counts.found_gold;
    }
    assert!(
        per_type.len() >= 17,
        "every entity type appears in the sample:\n{report}"
    );
    assert!(
        all.f1() >= 0.95,
        "overall F1 {:.3} below 0.95:\n{report}",
        all.f1()
    );
    for (entity_type, counts) in &per_type {
        let floor = if entity_type == "PERSON" { 0.93 } else { 0.95 };
        assert!(
            counts.f1() >= floor,
            "{entity_type} F1 {:.3} below {floor}:\n{report}",
            counts.f1()
        );
    }
    assert_eq!(decoy_findings, 0, "findings in PII-free records:\n{report}");
}
