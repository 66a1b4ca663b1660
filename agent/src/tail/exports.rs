//! The `magento-export` watcher: new files in Magento's `var/export/` become security events
//! (name shape and size only, never the contents).

use super::*;

impl SourceTailer {
    /// Directory sources: one security event per new file.
    pub(super) fn scan_exports(&mut self, clock: &dyn Clock, sink: &mut Sink<'_>) {
        let mut new_files = Vec::new();
        for path in self.matched_paths() {
            let Ok(metadata) = fs::metadata(&path) else {
                continue;
            };
            if !metadata.is_file() {
                continue;
            }
            let key = (metadata.dev(), metadata.ino());
            if !self.export.seen.contains(&key) {
                new_files.push((key, path, metadata.len()));
            }
        }
        if self.first_scan && self.options.read_from_end {
            self.export
                .seen
                .extend(new_files.iter().map(|(key, _, _)| *key));
            new_files.clear();
        }
        self.first_scan = false;
        if new_files.is_empty() {
            return;
        }
        let wall = clock.wall_unix();
        let records: Vec<Record> = new_files
            .iter()
            .map(|(_, path, size)| {
                let file_name = path
                    .file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_default();
                let mut details = std::collections::BTreeMap::new();
                let extension = path
                    .extension()
                    .map(|e| e.to_string_lossy().to_ascii_lowercase())
                    .unwrap_or_default();
                details.insert(
                    "extension".to_owned(),
                    crate::records::mask_detail("extension", &extension.into()),
                );
                details.insert(
                    "file".to_owned(),
                    crate::records::mask_detail("file", &file_name.into()),
                );
                details.insert("bytes".to_owned(), (*size).into());
                Record::SecurityEvent(SecurityEvent {
                    kind: SecurityEventKind::ExportFileCreated,
                    ts: Some(crate::timefmt::rfc3339(wall)),
                    principal: Principal::default(),
                    ip: None,
                    forwarded_ip: None,
                    query_id: None,
                    fingerprint: None,
                    tables: Vec::new(),
                    entity_type: None,
                    entity_ids: Vec::new(),
                    count: None,
                    result: None,
                    request_id: None,
                    details,
                })
            })
            .collect();
        let start = self.export.events;
        let end = start + records.len() as u64;
        let directory = self.include.first().map(PathBuf::from).unwrap_or_default();
        let batch = CutBatch {
            source: self.name.clone(),
            kind: self.kind,
            start_offset: start,
            end_offset: end,
            lines: records.len() as u64,
            records,
            state: FileState {
                file_id: format!("export:{}", self.name),
                dev: 0,
                ino: 0,
                head_len: 0,
                head_hash: 0,
                generation: 0,
                offset: end,
                marker_len: 0,
                marker_hash: 0,
                path: directory,
                carry: Default::default(),
                gone_since: None,
            },
        };
        if let Ok(seq) = sink(&batch) {
            self.export
                .seen
                .extend(new_files.iter().map(|(key, _, _)| *key));
            self.export.events = end;
            if let Some(seq) = seq {
                self.spool_seq = self.spool_seq.max(seq);
            }
            self.dirty = true;
            // Rare and small: stored at once so the seen set and the offset move together.
            let _ = self.store_checkpoint();
        }
    }
}
