//! The S3 backend against a real S3 server (moto on loopback, see `testing.rs`).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use renraku_attachments::blobs::{BlobStore as _, S3Bucket};
use renraku_attachments::testing::Moto;

/// A second S3 client that sees the bucket as the provider does: raw objects.
fn raw(moto: &Moto, bucket: &str) -> object_store::aws::AmazonS3 {
    object_store::aws::AmazonS3Builder::new()
        .with_bucket_name(bucket)
        .with_endpoint(&moto.endpoint)
        .with_allow_http(true)
        .with_region("ap-northeast-1")
        .with_access_key_id("renraku-test")
        .with_secret_access_key("renraku-test-secret")
        .build()
        .unwrap()
}

#[tokio::test]
async fn files_in_a_bucket_are_sealed_shared_and_bound_to_their_key() {
    use object_store::ObjectStoreExt as _;
    let Some(moto) = Moto::start().unwrap() else { return };
    moto.create_bucket("renraku-files").await.unwrap();
    let settings = |bucket: &str| moto.settings(bucket, "kashiwa");

    let key = [7u8; 32];
    let one = S3Bucket::new(&settings("renraku-files"), &key).unwrap();
    let photo = "褥瘡の写真 photo of a pressure sore".as_bytes();
    one.put("0a1b-photo", photo).await.unwrap();

    // Another app instance with the same settings and key reads it.
    let two = S3Bucket::new(&settings("renraku-files"), &key).unwrap();
    assert_eq!(two.get("0a1b-photo").await.unwrap(), photo);

    // The provider holds ciphertext only, under the configured prefix.
    let bucket = raw(&moto, "renraku-files");
    let stored = bucket.get(&"kashiwa/0a1b-photo".into()).await.unwrap().bytes().await.unwrap();
    assert_ne!(&stored[..], photo);
    assert!(!stored.windows(5).any(|w| w == b"photo"), "nothing readable in the bucket");

    // An object swapped under another key does not decrypt; neither does a wrong master key.
    one.put("0a1b-other", b"other").await.unwrap();
    let other = bucket.get(&"kashiwa/0a1b-other".into()).await.unwrap().bytes().await.unwrap();
    bucket.put(&"kashiwa/0a1b-photo".into(), other.into()).await.unwrap();
    assert!(one.get("0a1b-photo").await.is_err());
    let wrong_key = S3Bucket::new(&settings("renraku-files"), &[8u8; 32]).unwrap();
    assert!(wrong_key.get("0a1b-other").await.is_err());

    // A file stored for a post that was then not written is removed; removing it twice is fine.
    one.put("0a1b-orphan", b"orphan").await.unwrap();
    one.delete("0a1b-orphan").await.unwrap();
    assert!(bucket.get(&"kashiwa/0a1b-orphan".into()).await.is_err(), "gone from the bucket");
    one.delete("0a1b-orphan").await.unwrap();

    // Missing objects and bad keys are errors, not panics.
    assert!(one.get("0a1b-missing").await.is_err());
    assert!(one.put("../escape", b"x").await.is_err());
    let nowhere = S3Bucket::new(&settings("no-such-bucket"), &key).unwrap();
    assert!(nowhere.put("0a1b-photo", photo).await.is_err());
}
