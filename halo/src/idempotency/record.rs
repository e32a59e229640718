//! The idempotency record and its states.

use std::fmt;

use serde::{Deserialize, Serialize};

/// The state of a record as stored (`status` attribute); it serializes and
/// displays as the stored text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[non_exhaustive]
pub enum Status {
    /// An invocation claimed the key and is running (`INPROGRESS`).
    #[serde(rename = "INPROGRESS")]
    InProgress,
    /// The invocation finished; `data` holds its response, or `not_stored`
    /// says why it could not be stored (`COMPLETED`).
    Completed,
}

impl Status {
    /// The stored text: `INPROGRESS` or `COMPLETED` (as Powertools writes it).
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Status::InProgress => "INPROGRESS",
            Status::Completed => "COMPLETED",
        }
    }

    #[cfg(any(test, feature = "dynamodb"))]
    /// Parses the stored text.
    pub(crate) fn parse(text: &str) -> Option<Status> {
        match text {
            "INPROGRESS" => Some(Status::InProgress),
            "COMPLETED" => Some(Status::Completed),
            _ => None,
        }
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why a `COMPLETED` record holds no response: the function ran and
/// succeeded, but its response could not be stored. Such a record still
/// holds its key, so a duplicate never runs the function again; it fails
/// with this reason's [`code`](NotStored::code) instead.
///
/// Stored in the extra attribute `halo_not_stored` (Powertools ignores
/// attributes it does not know), with no `data`; it serializes and
/// displays as the stored text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum NotStored {
    /// The serialized response was over [`IdempotencyConfig::max_response_bytes`](crate::idempotency::IdempotencyConfig::max_response_bytes)
    /// (`too_large`).
    TooLarge,
    /// The response did not serialize to JSON (`not_serializable`).
    NotSerializable,
}

impl NotStored {
    /// The stored text: `too_large` or `not_serializable`.
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            NotStored::TooLarge => "too_large",
            NotStored::NotSerializable => "not_serializable",
        }
    }

    #[cfg(any(test, feature = "dynamodb"))]
    /// Parses the stored text.
    pub(crate) fn parse(text: &str) -> Option<NotStored> {
        match text {
            "too_large" => Some(NotStored::TooLarge),
            "not_serializable" => Some(NotStored::NotSerializable),
            _ => None,
        }
    }

    /// The error code a duplicate gets (HTTP 500):
    /// `IdempotencyResponseTooLarge` or `IdempotencyResponseNotSerializable`.
    pub fn code(self) -> &'static str {
        match self {
            NotStored::TooLarge => "IdempotencyResponseTooLarge",
            NotStored::NotSerializable => "IdempotencyResponseNotSerializable",
        }
    }
}

impl fmt::Display for NotStored {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One idempotency record, in the schema of Powertools' DynamoDB table.
///
/// A record is *expired* (the state Powertools calls `EXPIRED`) once
/// `expiration` has passed; an `INPROGRESS` record no longer blocks its key
/// once `in_progress_expiration` has passed. halo checks both itself: it
/// never relies on DynamoDB's TTL deleting the item.
///
/// ```
/// use halo::idempotency::store::{Record, Status};
///
/// let record = Record::in_progress("charge#abc", 3_600, 2_000_500, None);
/// assert_eq!(record.status, Status::InProgress);
/// assert!(record.blocks(2_000_000));
/// assert!(!record.blocks(2_000_501), "its invocation's deadline has passed");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Record {
    /// The idempotency key (`id`).
    pub key: String,
    /// `INPROGRESS` or `COMPLETED` (`status`).
    pub status: Status,
    /// When the record expires, in seconds since the Unix epoch
    /// (`expiration`, the table's TTL attribute).
    pub expiration: u64,
    /// While in progress: the claiming invocation's deadline, in
    /// milliseconds since the Unix epoch (`in_progress_expiration`).
    pub in_progress_expiration: Option<u64>,
    /// The serialized response of a completed invocation (`data`).
    pub data: Option<String>,
    /// The hash of the validated payload fields (`validation`).
    pub validation: Option<String>,
    /// Set on a completed record whose response could not be stored
    /// (`halo_not_stored`); `data` is then absent.
    pub not_stored: Option<NotStored>,
    /// Who wrote the claim (`halo_owner`): a token made for each call's
    /// claim. When a claim's write is applied but its answer is lost, the
    /// retried write finds this record: the same token says it is the
    /// call's own, not a concurrent duplicate's. `None` on records written
    /// without one (by Powertools, or before halo wrote it).
    pub owner: Option<String>,
}

impl Record {
    /// A record claiming `key` for an invocation whose deadline is
    /// `deadline_ms`, with a new [`owner`](Record::owner) token.
    pub fn in_progress(
        key: impl Into<String>,
        expiration: u64,
        deadline_ms: u64,
        validation: Option<String>,
    ) -> Record {
        Record {
            key: key.into(),
            status: Status::InProgress,
            expiration,
            in_progress_expiration: Some(deadline_ms),
            data: None,
            validation,
            not_stored: None,
            owner: Some(uuid::Uuid::new_v4().simple().to_string()),
        }
    }

    /// Whether `self`, found holding the key, is the claim `claim` wrote
    /// itself (an attempt whose answer was lost): in progress, with the
    /// claim's owner token.
    pub(crate) fn is_own_claim_of(&self, claim: &Record) -> bool {
        self.status == Status::InProgress && self.owner.is_some() && self.owner == claim.owner
    }

    /// The completed form of this record: `data` is the response and the
    /// record lives until `expiration`.
    #[must_use]
    pub fn completed(&self, data: String, expiration: u64) -> Record {
        Record {
            key: self.key.clone(),
            status: Status::Completed,
            expiration,
            in_progress_expiration: None,
            data: Some(data),
            validation: self.validation.clone(),
            not_stored: None,
            owner: self.owner.clone(),
        }
    }

    /// The completed form of this record for a response that could not be
    /// stored: no `data`, the `reason` instead. It holds the key until
    /// `expiration` like any completed record, so the function never runs
    /// again for it; duplicates fail with the reason's code.
    ///
    /// ```
    /// use halo::idempotency::store::{NotStored, Record, Status};
    ///
    /// let done = Record::in_progress("k", 10, 5_000, None).not_stored(NotStored::TooLarge, 10);
    /// assert_eq!((done.status, done.data.as_deref(), done.not_stored), (Status::Completed, None, Some(NotStored::TooLarge)));
    /// assert!(done.blocks(10_999));
    /// ```
    #[must_use]
    pub fn not_stored(&self, reason: NotStored, expiration: u64) -> Record {
        Record {
            key: self.key.clone(),
            status: Status::Completed,
            expiration,
            in_progress_expiration: None,
            data: None,
            validation: self.validation.clone(),
            not_stored: Some(reason),
            owner: self.owner.clone(),
        }
    }

    /// Whether the record has expired at `now_ms` (epoch milliseconds).
    /// Like DynamoDB's condition `expiration < :now`, with `:now` in whole
    /// seconds.
    pub(crate) fn is_expired(&self, now_ms: u64) -> bool {
        self.expiration < now_ms / 1000
    }

    /// Whether the record still holds its key at `now_ms`: not expired, and
    /// either completed or in progress before its invocation's deadline.
    /// This is the negation of the claim condition.
    pub fn blocks(&self, now_ms: u64) -> bool {
        if self.is_expired(now_ms) {
            return false;
        }
        match self.status {
            Status::Completed => true,
            Status::InProgress => self.in_progress_expiration.is_none_or(|deadline| deadline >= now_ms),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn completed_records_block_until_they_expire() {
        let record = Record::in_progress("k", 10, 5_000, Some("v".into())).completed("{}".into(), 10);
        assert_eq!(record.in_progress_expiration, None);
        assert_eq!(record.validation.as_deref(), Some("v"));
        assert!(record.blocks(10_999));
        assert!(!record.blocks(11_000));
    }

    #[test]
    fn status_text_round_trips() {
        for status in [Status::InProgress, Status::Completed] {
            assert_eq!(Status::parse(status.as_str()), Some(status));
        }
        for reason in [NotStored::TooLarge, NotStored::NotSerializable] {
            assert_eq!(NotStored::parse(reason.as_str()), Some(reason));
        }
        assert_eq!(Status::parse("EXPIRED"), None);
        assert_eq!(serde_json::to_string(&Status::InProgress).unwrap(), "\"INPROGRESS\"");
        assert_eq!(serde_json::to_string(&NotStored::TooLarge).unwrap(), "\"too_large\"");
    }

    #[test]
    fn a_claim_knows_its_own_write() {
        let mine = Record::in_progress("k", 10, 5_000, None);
        assert!(mine.clone().is_own_claim_of(&mine));
        let theirs = Record::in_progress("k", 10, 5_000, None);
        assert!(!theirs.is_own_claim_of(&mine), "another call's claim has another token");
    }
}
