//! A pretty-printed JSON object written field by field, as it is made.
//!
//! `serde_json::to_writer_pretty` writes a document from one value, on one thread. The
//! analysis report of a large estate is hundreds of megabytes (l: 580 MB, xl: 6 GB), most of
//! it one array: [`ObjectWriter`] writes the same bytes, but serialises the items of an array
//! on every core while the previous ones are written.
//!
//! Each value is serialised by `serde_json`'s own pretty printer; nested lines get the
//! indentation of their depth in the document as they are written (`serde_json` escapes
//! line breaks inside strings, so every line break it writes is layout). An array's items may
//! instead be written by the caller, in the same layout ([`ObjectWriter::field_par_with`]).

use std::io::{self, Write};

use rayon::prelude::*;
use serde::Serialize;

/// A JSON object written to `W` one field at a time, byte for byte as
/// `serde_json::to_writer_pretty` writes an object with the same fields in the same order.
pub struct ObjectWriter<W: Write> {
    w: W,
    fields: usize,
}

/// How many of an array's items one task serialises: enough that a task is worth starting,
/// few enough that the text of a group of tasks stays small (an exposure of estate xl is
/// 23 KB of text on average).
const ITEMS_PER_TASK: usize = 256;

/// The depth of an array's items in the object [`ObjectWriter::field_par`] writes: the
/// object's fields are at depth 1, their items at depth 2.
pub const ITEM_DEPTH: usize = 2;

impl<W: Write + Send> ObjectWriter<W> {
    /// Starts an object.
    pub fn new(w: W) -> ObjectWriter<W> {
        ObjectWriter { w, fields: 0 }
    }

    /// Writes the key of the next field.
    fn key(&mut self, name: &str) -> io::Result<()> {
        let sep: &[u8] = if self.fields == 0 { b"{\n  " } else { b",\n  " };
        self.fields += 1;
        self.w.write_all(sep)?;
        serde_json::to_writer(&mut self.w, name)?;
        self.w.write_all(b": ")
    }

    /// Writes a field.
    pub fn field<T: Serialize + ?Sized>(&mut self, name: &str, value: &T) -> io::Result<()> {
        self.key(name)?;
        serde_json::to_writer_pretty(Indented::new(&mut self.w, 1), value)?;
        Ok(())
    }

    /// Writes a field whose value is the array of `json(item)` for `items`, serialised in
    /// parallel (in order: the same bytes as [`Self::field`] would write).
    pub fn field_par<'t, T, J, F>(&mut self, name: &str, items: &'t [T], json: F) -> io::Result<()>
    where
        T: Sync,
        J: Serialize,
        F: Fn(&'t T) -> J + Sync,
    {
        self.field_par_with(name, items, |x, out| {
            serde_json::to_writer_pretty(Indented::new(out, ITEM_DEPTH), &json(x))?;
            Ok(())
        })
    }

    /// As [`Self::field_par`], but `write` writes each item's text itself, as
    /// `serde_json`'s pretty printer would write it at depth [`ITEM_DEPTH`] (its lines after
    /// the first indented by that many levels of two spaces): for items whose text is better
    /// made by hand than through `serde`.
    pub fn field_par_with<'t, T, F>(
        &mut self,
        name: &str,
        items: &'t [T],
        write: F,
    ) -> io::Result<()>
    where
        T: Sync,
        F: Fn(&'t T, &mut Vec<u8>) -> io::Result<()> + Sync,
    {
        self.key(name)?;
        if items.is_empty() {
            return self.w.write_all(b"[]");
        }
        self.w.write_all(b"[")?;
        // One group of tasks is serialised while the one before it is written.
        let group = ITEMS_PER_TASK * 2 * rayon::current_num_threads().max(1);
        // A task's text is made in room for as much as the last task wrote (growing it from
        // nothing copied each task's text again, a tenth of the writing on estate xl).
        let last_len = std::sync::atomic::AtomicUsize::new(0);
        let render = |part: &'t [T]| -> io::Result<Vec<Vec<u8>>> {
            part.par_chunks(ITEMS_PER_TASK)
                .map(|chunk| {
                    use std::sync::atomic::Ordering::Relaxed;
                    let mut out = Vec::with_capacity(last_len.load(Relaxed));
                    for x in chunk {
                        out.extend_from_slice(b",\n    ");
                        write(x, &mut out)?;
                    }
                    last_len.store(out.len(), Relaxed);
                    Ok(out)
                })
                .collect()
        };
        let mut groups = items.chunks(group);
        let mut ready = render(groups.next().unwrap_or_default())?;
        // The first item has no comma before it.
        if let Some(first) = ready.first_mut() {
            first.remove(0);
        }
        for part in groups {
            let w = &mut self.w;
            let (written, next) = rayon::join(
                || ready.iter().try_for_each(|bytes| w.write_all(bytes)),
                || render(part),
            );
            written?;
            ready = next?;
        }
        for bytes in &ready {
            self.w.write_all(bytes)?;
        }
        self.w.write_all(b"\n  ]")
    }

    /// Ends the object and hands back the writer (not flushed).
    pub fn finish(mut self) -> io::Result<W> {
        let end: &[u8] = if self.fields == 0 { b"{}" } else { b"\n}" };
        self.w.write_all(end)?;
        Ok(self.w)
    }
}

/// A writer that indents every line after the first by `depth` levels of two spaces.
struct Indented<W: Write> {
    w: W,
    indent: &'static [u8],
}

impl<W: Write> Indented<W> {
    fn new(w: W, depth: usize) -> Indented<W> {
        const SPACES: &[u8] = b"                ";
        Indented {
            w,
            indent: &SPACES[..(2 * depth).min(SPACES.len())],
        }
    }
}

impl<W: Write> Write for Indented<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let mut rest = buf;
        while let Some(k) = memchr::memchr(b'\n', rest) {
            self.w.write_all(&rest[..=k])?;
            self.w.write_all(self.indent)?;
            rest = &rest[k + 1..];
        }
        self.w.write_all(rest)?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        self.w.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// What the writer writes for `fields`, and what `serde_json` writes for the object.
    fn both(fields: &[(&str, serde_json::Value)], par: &[&str]) -> (String, String) {
        let mut doc = ObjectWriter::new(Vec::new());
        for (name, value) in fields {
            if par.contains(name) {
                let items = value.as_array().expect("an array").clone();
                doc.field_par(name, &items, |x| x.clone()).unwrap();
            } else {
                doc.field(name, value).unwrap();
            }
        }
        let ours = String::from_utf8(doc.finish().unwrap()).unwrap();
        let object: serde_json::Map<String, serde_json::Value> = fields
            .iter()
            .map(|(k, v)| (k.to_string(), v.clone()))
            .collect();
        let theirs = serde_json::to_string_pretty(&object).unwrap();
        (ours, theirs)
    }

    #[test]
    fn fields_are_written_as_serde_json_writes_the_object() {
        // Nesting, empty containers, strings with line breaks and quotes, and an array long
        // enough to span several groups of tasks.
        let many: Vec<serde_json::Value> = (0..3000)
            .map(|i| json!({"n": i, "deep": {"list": [i, {"x": []}], "s": "a\nb\"c"}, "e": {}}))
            .collect();
        // In the order of their names: `serde_json`'s maps sort their keys.
        let fields = [
            ("a_number", json!(2)),
            ("a_string", json!("line\nbreak")),
            ("empty", json!([])),
            ("many", serde_json::Value::Array(many)),
            (
                "nested",
                json!({"k": [1, 2, {"z": null}], "empty": [], "obj": {}}),
            ),
            ("none", json!([])),
            ("one", json!([{"only": true}])),
        ];
        let (ours, theirs) = both(&fields, &[]);
        assert_eq!(ours, theirs);
        let (ours, theirs) = both(&fields, &["many", "one", "none"]);
        assert_eq!(ours, theirs);
        assert!(both(&[], &[]).0 == "{}");
    }
}
