//! The upload, its parts, and the work on each part.

use md5::{Digest, Md5};
use serde::{Deserialize, Serialize};

/// The widths of the renditions made of every upload.
pub const RENDITION_WIDTHS: [u32; 3] = [320, 960, 1920];

/// The longest asset id (letters, digits, `-` and `_`).
pub const MAX_ASSET_ID: usize = 64;

/// An uploaded image, as the upload request describes it; the context of
/// its job.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Upload {
    /// The asset's id.
    pub asset_id: String,
    /// Where the original is stored (an object key).
    pub key: String,
    /// Its width in pixels.
    pub width: u32,
    /// Its height in pixels.
    pub height: u32,
    /// Its size in bytes.
    pub bytes: u64,
}

impl Upload {
    /// Checks what the caller sent; the error names the field, never
    /// quotes the value.
    pub fn validate(&self) -> Result<(), halo::Error> {
        let id_ok = !self.asset_id.is_empty()
            && self.asset_id.len() <= MAX_ASSET_ID
            && self.asset_id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        if !id_ok {
            return Err(halo::Error::unprocessable(format!(
                "`asset_id` must have 1 to {MAX_ASSET_ID} letters, digits, `-` or `_`"
            ))
            .with_code("InvalidUpload"));
        }
        if self.key.is_empty() || self.key.len() > 1024 {
            return Err(halo::Error::unprocessable("`key` must have 1 to 1024 bytes").with_code("InvalidUpload"));
        }
        if self.width == 0 || self.height == 0 || self.width > 100_000 || self.height > 100_000 {
            return Err(
                halo::Error::unprocessable("`width` and `height` must be 1 to 100000").with_code("InvalidUpload")
            );
        }
        Ok(())
    }

    /// The id of the asset's fan-out job: one job per asset, so uploading
    /// the same asset again starts nothing twice.
    pub fn job_id(asset_id: &str) -> String {
        format!("asset-{asset_id}")
    }

    /// The tasks of the asset's job, one per part: the renditions, then
    /// the metadata. Each carries the upload, so a worker needs no read.
    pub fn tasks(&self) -> Vec<Task> {
        let mut parts: Vec<Part> = RENDITION_WIDTHS.iter().map(|&width| Part::Rendition { width }).collect();
        parts.push(Part::Metadata);
        parts.into_iter().map(|part| Task { upload: self.clone(), part }).collect()
    }
}

/// A message on the parts queue: one part of an upload's job.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Task {
    /// The upload.
    pub upload: Upload,
    /// The part to make.
    pub part: Part,
}

/// One part of an asset's job: a message on the parts queue.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Part {
    /// A rendition this wide.
    Rendition {
        /// Its width in pixels.
        width: u32,
    },
    /// The image's metadata.
    Metadata,
}

/// What a part produced: small, a pointer to what was written (the job's
/// record holds every part's output, 400 KB in all).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Output {
    /// A rendition, written at `key`.
    Rendition {
        /// Where it is stored.
        key: String,
        /// Its width in pixels.
        width: u32,
        /// Its height in pixels.
        height: u32,
        /// Its size in bytes.
        bytes: u64,
        /// The MD5 of its content (hex).
        md5: String,
    },
    /// The metadata.
    Metadata {
        /// The content type.
        content_type: String,
        /// The original's width.
        width: u32,
        /// The original's height.
        height: u32,
        /// The original's size.
        bytes: u64,
    },
}

/// Renders `part` of `upload`.
///
/// **A deterministic stand-in**, not an image library: it reads no pixels
/// and writes no object. It derives what a resizer would report (the
/// rendition's key, its height at the original's aspect ratio, its size
/// in proportion to its area, an MD5 of what identifies it) from the
/// upload's description, so the same input always gives the same output.
/// An original whose key ends in `.corrupt` cannot be rendered
/// (`UnreadableImage`, every time: it shows the dead-letter path); its
/// metadata still can.
pub fn render(upload: &Upload, part: Part) -> Result<Output, halo::Error> {
    match part {
        Part::Rendition { width } => {
            if upload.key.ends_with(".corrupt") {
                return Err(halo::Error::unprocessable("the original cannot be decoded").with_code("UnreadableImage"));
            }
            let width = width.min(upload.width);
            let height = ((u64::from(upload.height) * u64::from(width)) / u64::from(upload.width)).max(1) as u32;
            let area = u64::from(width) * u64::from(height);
            let original_area = u64::from(upload.width) * u64::from(upload.height);
            let bytes = (upload.bytes * area / original_area).max(1);
            let stem = upload.key.rsplit_once('.').map_or(upload.key.as_str(), |(stem, _)| stem);
            let key = format!("renditions/{stem}-{width}w.jpg");
            let digest = Md5::digest(format!("{}:{width}x{height}", upload.key).as_bytes());
            let md5 = digest.iter().map(|b| format!("{b:02x}")).collect();
            Ok(Output::Rendition { key, width, height, bytes, md5 })
        }
        Part::Metadata => {
            let extension = upload.key.rsplit_once('.').map(|(_, ext)| ext.to_ascii_lowercase());
            let content_type = match extension.as_deref() {
                Some("png") => "image/png",
                Some("jpg" | "jpeg") => "image/jpeg",
                Some("webp") => "image/webp",
                _ => "application/octet-stream",
            };
            Ok(Output::Metadata {
                content_type: content_type.to_owned(),
                width: upload.width,
                height: upload.height,
                bytes: upload.bytes,
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn upload(key: &str) -> Upload {
        Upload { asset_id: "a-1".into(), key: key.into(), width: 4000, height: 3000, bytes: 6_000_000 }
    }

    #[test]
    fn renditions_keep_the_aspect_ratio_and_are_deterministic() {
        let output = render(&upload("photos/cat.png"), Part::Rendition { width: 320 }).unwrap();
        let Output::Rendition { key, width, height, bytes, md5 } = output.clone() else { panic!("{output:?}") };
        assert_eq!((key.as_str(), width, height, bytes), ("renditions/photos/cat-320w.jpg", 320, 240, 38_400));
        assert_eq!(md5.len(), 32);
        assert_eq!(render(&upload("photos/cat.png"), Part::Rendition { width: 320 }).unwrap(), output);
    }

    #[test]
    fn a_corrupt_original_fails_its_renditions_only() {
        let corrupt = upload("photos/cat.corrupt");
        assert_eq!(render(&corrupt, Part::Rendition { width: 960 }).unwrap_err().code(), "UnreadableImage");
        assert!(matches!(render(&corrupt, Part::Metadata), Ok(Output::Metadata { .. })));
    }

    #[test]
    fn four_parts_per_upload() {
        assert_eq!(upload("a.jpg").tasks().len(), 4);
        assert!(upload("a.jpg").validate().is_ok());
        let bad = Upload { asset_id: "../x".into(), ..upload("a.jpg") };
        assert_eq!(bad.validate().unwrap_err().code(), "InvalidUpload");
    }
}
