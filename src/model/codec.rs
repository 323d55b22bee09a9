//! A compact binary encoding of facts, for the persistent fact store
//! (`crate::pipeline::store`): integers and lengths as LEB128 varints, strings as a length
//! and UTF-8 bytes, options and enums as a tag byte, fields in declaration order.
//!
//! Every struct is destructured when encoded and built with every field when decoded, so a
//! field added to a fact type does not compile until the codec handles it; enums are matched
//! exhaustively. Decoding reads bytes that may come from anywhere (a cache restored from
//! another branch, a torn write): it never panics and never allocates more than the input
//! could hold, and any malformed input is a [`DecodeError`] (the store then extracts again).

use super::*;
use std::sync::Arc;

/// The bytes were not a value of the type decoded.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DecodeError;

/// A value that can be written to bytes.
pub trait Encode {
    fn encode(&self, out: &mut Vec<u8>);
}

/// A value that can be read back from what [`Encode`] wrote.
pub trait Decode: Sized {
    fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError>;
}

/// A cursor over bytes being decoded.
pub struct Reader<'a> {
    bytes: &'a [u8],
}

impl<'a> Reader<'a> {
    pub fn new(bytes: &'a [u8]) -> Self {
        Reader { bytes }
    }

    /// What is left to read.
    pub fn rest(&self) -> &'a [u8] {
        self.bytes
    }

    pub fn byte(&mut self) -> Result<u8, DecodeError> {
        let (&b, rest) = self.bytes.split_first().ok_or(DecodeError)?;
        self.bytes = rest;
        Ok(b)
    }

    /// The next `n` bytes.
    pub fn take(&mut self, n: usize) -> Result<&'a [u8], DecodeError> {
        if n > self.bytes.len() {
            return Err(DecodeError);
        }
        let (head, rest) = self.bytes.split_at(n);
        self.bytes = rest;
        Ok(head)
    }

    /// An unsigned LEB128 integer of at most 64 bits.
    pub fn varint(&mut self) -> Result<u64, DecodeError> {
        let mut value: u64 = 0;
        for shift in (0..64).step_by(7) {
            let b = self.byte()?;
            let part = u64::from(b & 0x7f);
            // The tenth byte may only carry the top bit of a u64.
            if shift == 63 && part > 1 {
                return Err(DecodeError);
            }
            value |= part << shift;
            if b & 0x80 == 0 {
                return Ok(value);
            }
        }
        Err(DecodeError)
    }

    /// A length of items that each take at least one byte: never more than what is left,
    /// so that a forged length allocates nothing.
    pub fn length(&mut self) -> Result<usize, DecodeError> {
        let n = usize::try_from(self.varint()?).map_err(|_| DecodeError)?;
        if n > self.bytes.len() {
            return Err(DecodeError);
        }
        Ok(n)
    }
}

/// Append `value` as an unsigned LEB128 integer.
pub fn put_varint(out: &mut Vec<u8>, mut value: u64) {
    while value >= 0x80 {
        out.push((value as u8 & 0x7f) | 0x80);
        value >>= 7;
    }
    out.push(value as u8);
}

/// Decode a whole value: bytes left over are an error too.
pub fn decode_all<T: Decode>(bytes: &[u8]) -> Result<T, DecodeError> {
    let mut r = Reader::new(bytes);
    let value = T::decode(&mut r)?;
    if r.rest().is_empty() {
        Ok(value)
    } else {
        Err(DecodeError)
    }
}

/// Encode and decode a struct field by field (each field's type must have a codec). The
/// destructuring and the struct literal name every field: a field the list forgets does
/// not compile.
macro_rules! codec_struct {
    ($name:ident { $($field:ident),* $(,)? }) => {
        impl $crate::model::codec::Encode for $name {
            fn encode(&self, out: &mut Vec<u8>) {
                let $name { $($field),* } = self;
                $( $crate::model::codec::Encode::encode($field, out); )*
            }
        }
        impl $crate::model::codec::Decode for $name {
            fn decode(
                r: &mut $crate::model::codec::Reader<'_>,
            ) -> Result<Self, $crate::model::codec::DecodeError> {
                // Struct literal fields are evaluated in the order written: the encoding's.
                Ok($name { $($field: $crate::model::codec::Decode::decode(r)?),* })
            }
        }
    };
}
pub(crate) use codec_struct;

/// Encode and decode an enum without data as its discriminant; the match names every
/// variant, so a variant the list forgets does not compile.
macro_rules! codec_unit_enum {
    ($t:ident { $($variant:ident),* $(,)? }) => {
        impl Encode for $t {
            fn encode(&self, out: &mut Vec<u8>) {
                match self { $( $t::$variant => {} )* }
                out.push(*self as u8);
            }
        }
        impl Decode for $t {
            fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
                let tag = r.byte()?;
                [$($t::$variant),*]
                    .into_iter()
                    .find(|v| *v as u8 == tag)
                    .ok_or(DecodeError)
            }
        }
    };
}

impl Encode for u64 {
    fn encode(&self, out: &mut Vec<u8>) {
        put_varint(out, *self);
    }
}

impl Decode for u64 {
    fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        r.varint()
    }
}

impl Encode for u32 {
    fn encode(&self, out: &mut Vec<u8>) {
        put_varint(out, u64::from(*self));
    }
}

impl Decode for u32 {
    fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        u32::try_from(r.varint()?).map_err(|_| DecodeError)
    }
}

impl Encode for usize {
    fn encode(&self, out: &mut Vec<u8>) {
        put_varint(out, *self as u64);
    }
}

impl Decode for usize {
    fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        usize::try_from(r.varint()?).map_err(|_| DecodeError)
    }
}

impl Encode for bool {
    fn encode(&self, out: &mut Vec<u8>) {
        out.push(u8::from(*self));
    }
}

impl Decode for bool {
    fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        match r.byte()? {
            0 => Ok(false),
            1 => Ok(true),
            _ => Err(DecodeError),
        }
    }
}

impl Encode for str {
    fn encode(&self, out: &mut Vec<u8>) {
        put_varint(out, self.len() as u64);
        out.extend_from_slice(self.as_bytes());
    }
}

/// A string's bytes, checked to be UTF-8.
fn decode_str<'a>(r: &mut Reader<'a>) -> Result<&'a str, DecodeError> {
    let n = r.length()?;
    std::str::from_utf8(r.take(n)?).map_err(|_| DecodeError)
}

impl Encode for String {
    fn encode(&self, out: &mut Vec<u8>) {
        self.as_str().encode(out);
    }
}

impl Decode for String {
    fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        decode_str(r).map(str::to_owned)
    }
}

impl Encode for Arc<str> {
    fn encode(&self, out: &mut Vec<u8>) {
        (**self).encode(out);
    }
}

impl Decode for Arc<str> {
    fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        decode_str(r).map(Arc::from)
    }
}

impl<T: Encode> Encode for Option<T> {
    fn encode(&self, out: &mut Vec<u8>) {
        match self {
            None => out.push(0),
            Some(v) => {
                out.push(1);
                v.encode(out);
            }
        }
    }
}

impl<T: Decode> Decode for Option<T> {
    fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        match r.byte()? {
            0 => Ok(None),
            1 => T::decode(r).map(Some),
            _ => Err(DecodeError),
        }
    }
}

impl<T: Encode> Encode for Vec<T> {
    fn encode(&self, out: &mut Vec<u8>) {
        put_varint(out, self.len() as u64);
        for v in self {
            v.encode(out);
        }
    }
}

impl<T: Decode> Decode for Vec<T> {
    fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        // Every value takes at least one byte: `length` bounds the allocation by the input.
        let n = r.length()?;
        let mut out = Vec::with_capacity(n);
        for _ in 0..n {
            out.push(T::decode(r)?);
        }
        Ok(out)
    }
}

impl<A: Encode, B: Encode> Encode for (A, B) {
    fn encode(&self, out: &mut Vec<u8>) {
        self.0.encode(out);
        self.1.encode(out);
    }
}

impl<A: Decode, B: Decode> Decode for (A, B) {
    fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok((A::decode(r)?, B::decode(r)?))
    }
}

impl<A: Encode, B: Encode, C: Encode> Encode for (A, B, C) {
    fn encode(&self, out: &mut Vec<u8>) {
        self.0.encode(out);
        self.1.encode(out);
        self.2.encode(out);
    }
}

impl<A: Decode, B: Decode, C: Decode> Decode for (A, B, C) {
    fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok((A::decode(r)?, B::decode(r)?, C::decode(r)?))
    }
}

codec_struct!(Span {
    start,
    end,
    line,
    column,
    end_line,
    end_column
});

codec_unit_enum!(PinKind {
    ContainerImage,
    KustomizeImage,
    HelmValuesImage,
    HelmChart,
    OciArtifact,
    GitRef,
    ModuleRef,
    VersionKey,
    BuildRecipe,
});
codec_unit_enum!(RefKind {
    Tag,
    Range,
    Branch,
    Commit,
    Absent
});
codec_unit_enum!(PolicySource {
    FluxImagePolicy,
    ArgoImageUpdater,
    OciRepositorySemver,
    HclSetting,
    Config,
});
codec_unit_enum!(PathMatch {
    Glob,
    GlobOrSubstring
});
codec_unit_enum!(DeployTool { Flux, Argo });

codec_struct!(Reference {
    kind,
    value,
    digest
});
codec_struct!(Pin {
    kind,
    component,
    reference,
    span,
    overrides,
    policy_ref,
    context
});
codec_struct!(TagPolicy {
    source,
    name,
    image_repository_ref,
    pattern,
    extract,
    order,
    order_span,
    span,
});
codec_struct!(ImageRepository { name, image, span });
codec_struct!(ConfigInclude { find, path, span });
codec_struct!(Kustomization {
    resources,
    components,
    namespace,
    patches,
    replacements,
    replacement_files,
});
codec_struct!(Replacement {
    source,
    field_path,
    options,
    targets
});
codec_struct!(ReplacementTarget {
    select,
    reject,
    field_paths,
    options
});
codec_struct!(FieldValue {
    field,
    value,
    span,
    policy_ref
});
codec_struct!(KubeObject {
    api_version,
    kind,
    name,
    namespace,
    labels,
    values,
    pins
});
codec_struct!(JsonPatch { ops });
codec_struct!(PatchTarget {
    group,
    version,
    kind,
    name,
    namespace,
    label_selector,
    annotation_selector,
});
codec_struct!(KustomizePatch {
    path,
    inline,
    target,
    span
});
codec_struct!(ArtifactTemplate { series, key, span });
codec_struct!(ImageUpdateAutomation { name, path, span });
codec_struct!(KargoStage {
    project,
    name,
    span,
    upstream,
    direct
});
codec_struct!(FilePattern {
    key,
    pattern,
    matching,
    span
});
codec_struct!(RenovateRule {
    index,
    files,
    enabled,
    conditions,
    label,
    span
});
codec_struct!(RenovateConfig {
    base,
    enabled,
    ignore_paths,
    include_paths,
    rules
});
codec_struct!(FluxKustomization {
    path,
    substitute,
    substitute_from
});
codec_struct!(DeployEntry {
    tool,
    name,
    path,
    span,
    recurse,
    value_files,
    env_words,
    images,
    artifact,
});
codec_struct!(ArtifactCopies { name, copies });
codec_struct!(ConfigMapSource {
    name,
    env_files,
    literals,
    files,
    embedded
});
codec_struct!(HelmValuesFrom {
    release,
    refs,
    inline
});
codec_struct!(ValuesRef {
    name,
    values_key,
    target_path,
    span
});
codec_struct!(TemplatedPin { pin, var, default });
codec_struct!(Fact {
    namespace,
    environment,
    kind
});

impl Encode for PolicyOrder {
    fn encode(&self, out: &mut Vec<u8>) {
        match self {
            PolicyOrder::Semver { range } => (0u8, range).encode_tagged(out),
            PolicyOrder::Alphabetical { order } => (1u8, order).encode_tagged(out),
            PolicyOrder::Numerical { order } => (2u8, order).encode_tagged(out),
            PolicyOrder::Unspecified => out.push(3),
        }
    }
}

impl Decode for PolicyOrder {
    fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(match r.byte()? {
            0 => PolicyOrder::Semver {
                range: String::decode(r)?,
            },
            1 => PolicyOrder::Alphabetical {
                order: String::decode(r)?,
            },
            2 => PolicyOrder::Numerical {
                order: String::decode(r)?,
            },
            3 => PolicyOrder::Unspecified,
            _ => return Err(DecodeError),
        })
    }
}

impl Encode for Field {
    fn encode(&self, out: &mut Vec<u8>) {
        match self {
            Field::ChartVersion => out.push(0),
            Field::Image { init, name, index } => {
                out.push(1);
                init.encode(out);
                name.encode(out);
                index.encode(out);
            }
            Field::Ref { key } => (2u8, key).encode_tagged(out),
            Field::Value { path } => (3u8, path).encode_tagged(out),
        }
    }
}

impl Decode for Field {
    fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(match r.byte()? {
            0 => Field::ChartVersion,
            1 => Field::Image {
                init: Decode::decode(r)?,
                name: Decode::decode(r)?,
                index: Decode::decode(r)?,
            },
            2 => Field::Ref {
                key: Decode::decode(r)?,
            },
            3 => Field::Value {
                path: Decode::decode(r)?,
            },
            _ => return Err(DecodeError),
        })
    }
}

impl Encode for PatchBody {
    fn encode(&self, out: &mut Vec<u8>) {
        match self {
            PatchBody::Merge(o) => (0u8, o).encode_tagged(out),
            PatchBody::Json(p) => (1u8, p).encode_tagged(out),
        }
    }
}

impl Decode for PatchBody {
    fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(match r.byte()? {
            0 => PatchBody::Merge(Decode::decode(r)?),
            1 => PatchBody::Json(Decode::decode(r)?),
            _ => return Err(DecodeError),
        })
    }
}

/// A variant's tag byte followed by its one value.
trait EncodeTagged {
    fn encode_tagged(&self, out: &mut Vec<u8>);
}

impl<T: Encode + ?Sized> EncodeTagged for (u8, &T) {
    fn encode_tagged(&self, out: &mut Vec<u8>) {
        out.push(self.0);
        self.1.encode(out);
    }
}

impl Encode for FactKind {
    fn encode(&self, out: &mut Vec<u8>) {
        match self {
            FactKind::Pin(v) => (0u8, v).encode_tagged(out),
            FactKind::TagPolicy(v) => (1u8, v).encode_tagged(out),
            FactKind::ImageRepository(v) => (2u8, v).encode_tagged(out),
            FactKind::Kustomization(v) => (3u8, v).encode_tagged(out),
            FactKind::ArtifactTemplate(v) => (4u8, v).encode_tagged(out),
            FactKind::ImageUpdateAutomation(v) => (5u8, v).encode_tagged(out),
            FactKind::KargoStage(v) => (6u8, v).encode_tagged(out),
            FactKind::RenovateConfig(v) => (7u8, v).encode_tagged(out),
            FactKind::Object(v) => (8u8, v).encode_tagged(out),
            FactKind::JsonPatch(v) => (9u8, v).encode_tagged(out),
            FactKind::ConfigInclude(v) => (10u8, v).encode_tagged(out),
            FactKind::FluxKustomization(v) => (11u8, v).encode_tagged(out),
            FactKind::Deploy(v) => (12u8, v).encode_tagged(out),
            FactKind::ArtifactCopies(v) => (13u8, v).encode_tagged(out),
            FactKind::ConfigMapSource(v) => (14u8, v).encode_tagged(out),
            FactKind::TemplatedPin(v) => (15u8, v).encode_tagged(out),
            FactKind::HelmValuesFrom(v) => (16u8, v).encode_tagged(out),
            FactKind::Replacements(v) => (17u8, v).encode_tagged(out),
        }
    }
}

impl Decode for FactKind {
    fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let d = r;
        Ok(match d.byte()? {
            0 => FactKind::Pin(Decode::decode(d)?),
            1 => FactKind::TagPolicy(Decode::decode(d)?),
            2 => FactKind::ImageRepository(Decode::decode(d)?),
            3 => FactKind::Kustomization(Decode::decode(d)?),
            4 => FactKind::ArtifactTemplate(Decode::decode(d)?),
            5 => FactKind::ImageUpdateAutomation(Decode::decode(d)?),
            6 => FactKind::KargoStage(Decode::decode(d)?),
            7 => FactKind::RenovateConfig(Decode::decode(d)?),
            8 => FactKind::Object(Decode::decode(d)?),
            9 => FactKind::JsonPatch(Decode::decode(d)?),
            10 => FactKind::ConfigInclude(Decode::decode(d)?),
            11 => FactKind::FluxKustomization(Decode::decode(d)?),
            12 => FactKind::Deploy(Decode::decode(d)?),
            13 => FactKind::ArtifactCopies(Decode::decode(d)?),
            14 => FactKind::ConfigMapSource(Decode::decode(d)?),
            15 => FactKind::TemplatedPin(Decode::decode(d)?),
            16 => FactKind::HelmValuesFrom(Decode::decode(d)?),
            17 => FactKind::Replacements(Decode::decode(d)?),
            _ => return Err(DecodeError),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn varints_round_trip_and_reject_overlong_input() {
        for v in [0, 1, 127, 128, 300, u64::from(u32::MAX), u64::MAX] {
            let mut out = Vec::new();
            put_varint(&mut out, v);
            assert_eq!(decode_all::<u64>(&out), Ok(v));
        }
        // Eleven bytes, or a tenth byte past 64 bits.
        assert_eq!(decode_all::<u64>(&[0xff; 11]), Err(DecodeError));
        let mut over = vec![0xff; 9];
        over.push(0x02);
        assert_eq!(decode_all::<u64>(&over), Err(DecodeError));
        assert_eq!(
            decode_all::<u32>(&[0x80, 0x80, 0x80, 0x80, 0x10]),
            Err(DecodeError)
        );
    }

    #[test]
    fn a_forged_length_allocates_nothing() {
        // A vector claiming u64::MAX elements in a few bytes.
        let mut out = Vec::new();
        put_varint(&mut out, u64::MAX);
        assert_eq!(decode_all::<Vec<String>>(&out), Err(DecodeError));
        assert_eq!(decode_all::<String>(&[2, 0xff, 0xfe]), Err(DecodeError));
        assert_eq!(decode_all::<Option<bool>>(&[1, 2]), Err(DecodeError));
        assert_eq!(
            decode_all::<bool>(&[1, 0]),
            Err(DecodeError),
            "trailing bytes"
        );
    }
}
