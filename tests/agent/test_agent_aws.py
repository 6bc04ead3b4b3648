"""The agent's SigV4 signer against AWS's own published examples (signatures copied from
the AWS docs: S3 "GET Object" example and the IAM ListUsers signing walkthrough)."""

from __future__ import annotations

from kit import agent

aws = agent("aws")


def test_s3_get_object_example() -> None:
    # docs.aws.amazon.com/AmazonS3/latest/API/sig-v4-header-based-auth.html, "Example: GET Object".
    creds = {"key": "AKIAIOSFODNN7EXAMPLE", "secret": "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"}
    headers = aws.sign("GET", "examplebucket.s3.amazonaws.com", "/test.txt", "",
                       {"Range": "bytes=0-9", "x-amz-content-sha256": aws.EMPTY_SHA256}, aws.EMPTY_SHA256,
                       creds, "us-east-1", "s3", "20130524T000000Z")
    assert headers["authorization"] == (
        "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request, "
        "SignedHeaders=host;range;x-amz-content-sha256;x-amz-date, "
        "Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41")


def test_iam_list_users_example() -> None:
    # docs.aws.amazon.com/IAM/latest/UserGuide/create-signed-request.html (GET with a query string).
    creds = {"key": "AKIDEXAMPLE", "secret": "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"}
    headers = aws.sign("GET", "iam.amazonaws.com", "/", "Action=ListUsers&Version=2010-05-08",
                       {"content-type": "application/x-www-form-urlencoded; charset=utf-8"}, aws.EMPTY_SHA256,
                       creds, "us-east-1", "iam", "20150830T123600Z")
    assert headers["authorization"].endswith("Signature=5d672d79c15b13162d9279b0855cfba6789a8edb4c82c400e06b5924a6f2b5d7")


def test_session_token_is_signed() -> None:
    creds = {"key": "AK", "secret": "S", "token": "T"}
    headers = aws.sign("GET", "b.s3.eu-west-1.amazonaws.com", "/p/releases/desired.json", "", {}, aws.EMPTY_SHA256,
                       creds, "eu-west-1", "s3", "20260101T000000Z")
    assert headers["x-amz-security-token"] == "T"
    assert "SignedHeaders=host;x-amz-date;x-amz-security-token," in headers["authorization"]


def test_store_addresses() -> None:
    s3 = aws.S3Store("s3://bucket/stacks/prod", "eu-west-1", None)
    assert (s3.host, s3.base, s3.prefix) == ("bucket.s3.eu-west-1.amazonaws.com", "", "stacks/prod")
    spaces = aws.S3Store("s3://space/staging", "fra1", "https://fra1.digitaloceanspaces.com")
    assert (spaces.host, spaces.base) == ("fra1.digitaloceanspaces.com", "/space")
