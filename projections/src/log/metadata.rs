//! An event's metadata as its readers take it from the stored JSON text:
//! every field (the subscription's map), or one field (a filter), without
//! building a `serde_json::Value` per event. The metadata is a JSON object
//! whose values are strings; any other value is read as its JSON text.

use std::fmt;

use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, Visitor};
use serde::Deserialize;

/// Every field of `json` (an object), each value as text.
pub fn fields<M: Default + Extend<(String, String)>>(json: &str) -> Result<M, serde_json::Error> {
    let mut de = serde_json::Deserializer::from_str(json);
    let fields = de.deserialize_map(Fields(std::marker::PhantomData))?;
    de.end()?;
    Ok(fields)
}

/// The field `key` of `json` (an object) as text, if it is there.
pub fn field(json: &str, key: &str) -> Result<Option<String>, serde_json::Error> {
    let mut de = serde_json::Deserializer::from_str(json);
    let found = de.deserialize_map(Field(key))?;
    de.end()?;
    Ok(found)
}

/// A metadata value as text: a string as it is, anything else as JSON.
struct Text(String);

impl<'de> Deserialize<'de> for Text {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(TextVisitor)
    }
}

struct TextVisitor;

impl<'de> Visitor<'de> for TextVisitor {
    type Value = Text;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Text, E> {
        Ok(Text(v.to_owned()))
    }

    fn visit_string<E: de::Error>(self, v: String) -> Result<Text, E> {
        Ok(Text(v))
    }

    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Text, E> {
        Ok(Text(v.to_string()))
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Text, E> {
        Ok(Text(v.to_string()))
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Text, E> {
        Ok(Text(v.to_string()))
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Text, E> {
        Ok(Text(serde_json::Value::from(v).to_string()))
    }

    fn visit_unit<E: de::Error>(self) -> Result<Text, E> {
        Ok(Text("null".to_owned()))
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Text, A::Error> {
        let value = serde_json::Value::deserialize(de::value::MapAccessDeserializer::new(map))?;
        Ok(Text(value.to_string()))
    }

    fn visit_seq<A: de::SeqAccess<'de>>(self, seq: A) -> Result<Text, A::Error> {
        let value = serde_json::Value::deserialize(de::value::SeqAccessDeserializer::new(seq))?;
        Ok(Text(value.to_string()))
    }
}

struct Fields<M>(std::marker::PhantomData<M>);

impl<'de, M: Default + Extend<(String, String)>> Visitor<'de> for Fields<M> {
    type Value = M;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<M, A::Error> {
        let mut out = M::default();
        while let Some((key, Text(value))) = map.next_entry::<String, Text>()? {
            out.extend([(key, value)]);
        }
        Ok(out)
    }
}

struct Field<'k>(&'k str);

impl<'de> Visitor<'de> for Field<'_> {
    type Value = Option<String>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Option<String>, A::Error> {
        let mut found = None;
        while let Some(wanted) = map.next_key_seed(IsKey(self.0))? {
            if wanted {
                found = Some(map.next_value::<Text>()?.0);
            } else {
                map.next_value::<IgnoredAny>()?;
            }
        }
        Ok(found)
    }
}

/// Whether a key is the one asked for, compared where it lies in the
/// text (no copy of each key).
struct IsKey<'k>(&'k str);

impl<'de> DeserializeSeed<'de> for IsKey<'_> {
    type Value = bool;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<bool, D::Error> {
        d.deserialize_str(self)
    }
}

impl<'de> Visitor<'de> for IsKey<'_> {
    type Value = bool;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a key")
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<bool, E> {
        Ok(v == self.0)
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use proptest::prelude::*;

    use super::*;

    /// What the subscription map held when it was built from a `Value`.
    fn from_value(json: &str) -> BTreeMap<String, String> {
        let v: serde_json::Value = serde_json::from_str(json).expect("json");
        v.as_object()
            .expect("object")
            .iter()
            .map(|(k, v)| {
                (
                    k.clone(),
                    v.as_str().map_or_else(|| v.to_string(), str::to_owned),
                )
            })
            .collect()
    }

    #[test]
    fn string_fields_are_read_as_they_are() {
        let json = r#"{"actor_id":"tech-1","request_id":"r \"quoted\" é"}"#;
        let got: BTreeMap<String, String> = fields(json).expect("fields");
        assert_eq!(got["actor_id"], "tech-1");
        assert_eq!(got["request_id"], "r \"quoted\" é");
    }

    #[test]
    fn other_values_are_read_as_their_json_text() {
        let json = r#"{"n":3,"neg":-2,"x":1.5,"t":true,"z":null,"o":{"a":[1,"b"]},"l":[1,2]}"#;
        let got: BTreeMap<String, String> = fields(json).expect("fields");
        assert_eq!(got, from_value(json));
    }

    #[test]
    fn one_field_is_found_among_others_of_any_shape() {
        let json =
            r#"{"o":{"product_model":"no"},"l":[{"product_model":"no"}],"product_model":"X1"}"#;
        assert_eq!(
            field(json, "product_model").expect("field").as_deref(),
            Some("X1")
        );
        assert_eq!(field(json, "missing").expect("field"), None);
        assert_eq!(field("{}", "product_model").expect("field"), None);
    }

    #[test]
    fn metadata_that_is_not_an_object_is_refused() {
        assert!(fields::<BTreeMap<String, String>>("[1]").is_err());
        assert!(field("\"text\"", "a").is_err());
        assert!(fields::<BTreeMap<String, String>>("{} trailing").is_err());
    }

    proptest! {
        #[test]
        fn fields_read_from_text_equal_those_read_through_a_value(
            entries in proptest::collection::btree_map("[a-z_]{1,12}", prop_oneof![
                ".{0,20}".prop_map(serde_json::Value::from),
                any::<i64>().prop_map(serde_json::Value::from),
                any::<bool>().prop_map(serde_json::Value::from),
            ], 0..8)
        ) {
            let json = serde_json::Value::Object(entries.into_iter().collect()).to_string();
            let got: BTreeMap<String, String> = fields(&json).expect("fields");
            prop_assert_eq!(&got, &from_value(&json));
            for (k, v) in &got {
                prop_assert_eq!(field(&json, k).expect("field"), Some(v.clone()));
            }
        }
    }
}
