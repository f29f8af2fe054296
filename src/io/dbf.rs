//! A small dBASE III reader for shapefile attribute tables.
//!
//! Written here rather than taken from `dbase` so that text decoding is ours: the encoding
//! declared by the .cpg wins; without one, each text field is decoded as UTF-8 when valid
//! and as GBK otherwise — Chinese desktop GIS writes GBK without a .cpg, and decoding that
//! as UTF-8 gives mojibake silently.

use encoding_rs::Encoding;
use serde_json::{Map, Number, Value};

use super::text::{decode, Decoded};

#[derive(Debug)]
struct FieldDesc {
    name: String,
    kind: u8,
    len: usize,
    decimals: u8,
}

/// The table: one property map per record, and whether any text needed the GBK fallback.
pub struct Table {
    pub records: Vec<Map<String, Value>>,
    pub deleted: Vec<bool>,
    pub used_gbk_fallback: bool,
}

/// Parses a .dbf file's bytes.
pub fn parse(bytes: &[u8], declared: Option<&'static Encoding>) -> Result<Table, String> {
    if bytes.len() < 32 {
        return Err("file too short for a dBASE header".into());
    }
    let n_records = u32::from_le_bytes([bytes[4], bytes[5], bytes[6], bytes[7]]) as usize;
    let header_len = u16::from_le_bytes([bytes[8], bytes[9]]) as usize;
    let record_len = u16::from_le_bytes([bytes[10], bytes[11]]) as usize;
    if header_len < 33 || header_len > bytes.len() || record_len == 0 {
        return Err("corrupt dBASE header".into());
    }
    let mut fields = Vec::new();
    let mut pos = 32;
    while pos + 32 <= header_len && bytes[pos] != 0x0D {
        let d = &bytes[pos..pos + 32];
        let raw_name: Vec<u8> = d[..11].iter().copied().take_while(|&b| b != 0).collect();
        let (name, _) = decode(&raw_name, declared);
        fields.push(FieldDesc {
            name: name.trim().to_owned(),
            kind: d[11],
            len: d[16] as usize,
            decimals: d[17],
        });
        pos += 32;
    }
    let expected: usize = 1 + fields.iter().map(|f| f.len).sum::<usize>();
    if expected != record_len {
        return Err(format!(
            "field lengths ({expected}) do not add up to the record length ({record_len})"
        ));
    }
    // The header's record count sizes the tables: check it against the bytes there are
    // before allocating (a corrupt count once asked for 12 GB).
    let room = (bytes.len() - header_len) / record_len;
    if n_records > room {
        return Err(format!(
            "the header promises {n_records} records but the file holds at most {room}: it is truncated or corrupt"
        ));
    }
    let mut table = Table {
        records: Vec::with_capacity(n_records),
        deleted: Vec::with_capacity(n_records),
        used_gbk_fallback: false,
    };
    for r in 0..n_records {
        let start = header_len + r * record_len;
        let Some(rec) = bytes.get(start..start + record_len) else {
            return Err(format!("file ends inside record {r} of {n_records}"));
        };
        table.deleted.push(rec[0] == b'*');
        let mut props = Map::new();
        let mut off = 1;
        for f in &fields {
            let raw = &rec[off..off + f.len];
            off += f.len;
            let value = match f.kind {
                b'N' | b'F' => {
                    let s = String::from_utf8_lossy(raw);
                    let s = s.trim();
                    if s.is_empty() || s.starts_with('*') {
                        Value::Null
                    } else if f.decimals == 0 {
                        s.parse::<i64>()
                            .map(|i| Value::Number(i.into()))
                            .or_else(|_| {
                                s.parse::<f64>()
                                    .map(|x| Number::from_f64(x).map_or(Value::Null, Value::Number))
                            })
                            .unwrap_or_else(|_| Value::String(s.to_owned()))
                    } else {
                        s.parse::<f64>()
                            .ok()
                            .and_then(Number::from_f64)
                            .map_or_else(|| Value::String(s.to_owned()), Value::Number)
                    }
                }
                b'L' => match raw.first() {
                    Some(b'T' | b't' | b'Y' | b'y') => Value::Bool(true),
                    Some(b'F' | b'f' | b'N' | b'n') => Value::Bool(false),
                    _ => Value::Null,
                },
                _ => {
                    let trimmed: &[u8] = {
                        let end = raw
                            .iter()
                            .rposition(|&b| b != b' ' && b != 0)
                            .map_or(0, |p| p + 1);
                        &raw[..end]
                    };
                    if trimmed.is_empty() {
                        Value::Null
                    } else {
                        let (s, how) = decode(trimmed, declared);
                        if how == Decoded::GbkFallback {
                            table.used_gbk_fallback = true;
                        }
                        Value::String(s.trim().to_owned())
                    }
                }
            };
            props.insert(f.name.clone(), value);
        }
        table.records.push(props);
    }
    Ok(table)
}

/// Writes a dBASE III table of text ('C') and numeric ('N') fields, encoding text with
/// `encoding`. Used by tests to make GBK fixtures and by exports.
pub fn write(
    fields: &[(&str, u8, usize)],
    rows: &[Vec<String>],
    encoding: &'static Encoding,
) -> Vec<u8> {
    let header_len = 32 + 32 * fields.len() + 1;
    let record_len = 1 + fields.iter().map(|f| f.2).sum::<usize>();
    let mut out = vec![0u8; 32];
    out[0] = 0x03;
    out[1..4].copy_from_slice(&[126, 11, 22]);
    out[4..8].copy_from_slice(&(rows.len() as u32).to_le_bytes());
    out[8..10].copy_from_slice(&(header_len as u16).to_le_bytes());
    out[10..12].copy_from_slice(&(record_len as u16).to_le_bytes());
    for (name, kind, len) in fields {
        let mut d = [0u8; 32];
        let (nb, _, _) = encoding.encode(name);
        let n = nb.len().min(10);
        d[..n].copy_from_slice(&nb[..n]);
        d[11] = *kind;
        d[16] = *len as u8;
        out.extend_from_slice(&d);
    }
    out.push(0x0D);
    for row in rows {
        out.push(b' ');
        for ((_, kind, len), v) in fields.iter().zip(row) {
            let (b, _, _) = encoding.encode(v);
            let mut cell = vec![b' '; *len];
            let n = b.len().min(*len);
            if *kind == b'N' {
                cell[*len - n..].copy_from_slice(&b[..n]);
            } else {
                cell[..n].copy_from_slice(&b[..n]);
            }
            out.extend_from_slice(&cell);
        }
    }
    out.push(0x1A);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use encoding_rs::GBK;

    #[test]
    fn gbk_without_cpg_decodes_by_fallback() {
        let bytes = write(
            &[("名称", b'C', 20), ("人口", b'N', 10)],
            &[vec!["道里区".into(), "1097430".into()]],
            GBK,
        );
        let t = parse(&bytes, None).unwrap();
        assert!(t.used_gbk_fallback);
        assert_eq!(t.records[0]["名称"], Value::String("道里区".into()));
        assert_eq!(t.records[0]["人口"], Value::Number(1097430.into()));
    }
}
