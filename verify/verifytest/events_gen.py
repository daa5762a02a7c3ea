#!/usr/bin/env python3
"""Writes events.json: the public vectors for events other than compose.

Nothing here imports or runs the Go code under test. Signatures come from
coreutils' sha1sum and dedupe keys from sha256sum (each case records the
command); the expected documents are written out below by hand from the
rules in verify/rules.go and the tables of verify/events.go. Run from this directory: python3 events_gen.py
"""
import hashlib
import json
import subprocess
import urllib.parse
from datetime import datetime, timezone

SECRET = "a1b2c3d4e5f60718293a4b5c6d7e8f90"
MAX_AGE = 300


def sha1sum(secret, timestamp, nonce):
    joined = "".join(sorted([secret, timestamp, nonce]))
    command = "printf '%s' '" + joined + "' | sha1sum"
    out = subprocess.run(["sh", "-c", command], capture_output=True, text=True, check=True).stdout.split()[0]
    assert out == hashlib.sha1(joined.encode()).hexdigest(), command
    return out, command


def sha256key(parts):
    # NULs between the parts, as the Go code joins them; each \0 in the
    # format is followed by '%', never by a digit printf could read as octal.
    fmt = "\\0".join("%s" for _ in parts)
    command = "printf '" + fmt + "' " + " ".join("'" + p + "'" for p in parts) + " | sha256sum | cut -c1-32"
    out = subprocess.run(["sh", "-c", command], capture_output=True, text=True, check=True).stdout.strip()
    assert out == hashlib.sha256("\0".join(parts).encode()).hexdigest()[:32], command
    return out, command


def sent_at(ts):
    return datetime.fromtimestamp(ts, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def envelope(event, app_id, ts, nonce):
    return {"event": event, "app_id": app_id, "timestamp": ts, "sent_at": sent_at(ts), "nonce": nonce}


# Each event: the body as ZEGO's page shows it (types as the page shows
# them), with the placeholder signature replaced; the expected document; the
# dedupe key parts; and a note on what was fixed.
EVENTS = []

# room_create: the example of .../real-time-video-server/callback/room/created
# verbatim but for the signature. appid, timestamp and room_session_id are
# JSON numbers; room_session_id exceeds 2^53.
EVENTS.append(dict(
    event="room_create",
    note="ZEGO's example (room/created) with a real signature; room_session_id 858012925204410400 is a JSON number above 2^53 and must come out as its exact digits.",
    body=[("event", "room_create"), ("appid", 1), ("timestamp", 1499676978), ("nonce", "350176"), ("signature", None),
          ("room_id", "rid_1242649"), ("room_session_id", 858012925204410400), ("room_create_time", "1499676978027"), ("id_name", "id123")],
    expected_fields=[("room_id", "rid_1242649"), ("room_session_id", "858012925204410400"),
                     ("room_create_time", 1499676978027), ("id_name", "id123")],
    key=["858012925204410400"],
))

EVENTS.append(dict(
    event="room_close",
    note="ZEGO's example (room/destroyed) with a real signature.",
    body=[("event", "room_close"), ("appid", 1), ("timestamp", 1499676989), ("nonce", "350176"), ("signature", None),
          ("room_id", "rid_1242649"), ("room_session_id", 858012925204410400), ("close_reason", 1), ("room_close_time", "1499676989909")],
    expected_fields=[("room_id", "rid_1242649"), ("room_session_id", "858012925204410400"), ("close_reason", 1),
                     ("close_reason_name", "last_user_heartbeat_timeout"), ("room_close_time", 1499676989909)],
    key=["858012925204410400"],
))

EVENTS.append(dict(
    event="room_login",
    note="ZEGO's example (article/14133, login_time and timestamp as JSON numbers) with a real signature.",
    body=[("user_account", "888120154"), ("user_nickname", "888120154"), ("session_id", "0"), ("room_id", "rid_1242649"),
          ("room_seq", "6085791336856668982"), ("room_name", "room#123"), ("login_time", 1499676978027), ("timestamp", 1499676978),
          ("nonce", "350176"), ("signature", None), ("appid", "1"), ("event", "room_login")],
    expected_fields=[("room_id", "rid_1242649"), ("room_name", "room#123"), ("room_seq", "6085791336856668982"),
                     ("user_account", "888120154"), ("user_nickname", "888120154"), ("session_id", "0"),
                     ("login_time", 1499676978027), ("user_role", None), ("user_role_name", None), ("auth_level", None),
                     ("relogin", None), ("user_update_seq", "")],
    key=["6085791336856668982", "888120154", "0", "1499676978027"],
))

EVENTS.append(dict(
    event="room_logout",
    note="ZEGO's example (article/14134: user_role, logout_time, reason and timestamp as JSON numbers) with a real signature.",
    body=[("user_account", "888120154"), ("user_nickname", "888120154"), ("user_role", 1), ("session_id", "0"), ("room_id", "rid_1242649"),
          ("room_seq", "6085791336856668982"), ("logout_time", 1499676978027), ("timestamp", 1499676978), ("nonce", "350176"),
          ("signature", None), ("reason", 0), ("appid", "1"), ("event", "room_logout")],
    expected_fields=[("room_id", "rid_1242649"), ("room_seq", "6085791336856668982"), ("user_account", "888120154"),
                     ("user_nickname", "888120154"), ("session_id", "0"), ("login_time", None), ("logout_time", 1499676978027),
                     ("reason", 0), ("reason_name", "normal"), ("user_role", 1), ("user_role_name", "host"), ("user_update_seq", "")],
    key=["6085791336856668982", "888120154", "0", "1499676978027"],
))

STREAM_SID = "s-115205137699740000000000104"
EVENTS.append(dict(
    event="stream_create",
    note="Assembled from the field table of stream/created (the stored copy of the page lacks its JSON example), with the values of the older edition's form example (article/9806) and example.com play URLs; stream_attr is the page's own \"{\\\"cid\\\":0}\".",
    body=[("event", "stream_create"), ("appid", "1"), ("timestamp", "1481597358"), ("nonce", "158273"), ("signature", None),
          ("room_id", "0xb-0x1"), ("room_session_id", "6085791336856668982"), ("user_id", "888120154"), ("user_name", "888120154"),
          ("channel_id", "0xb-0x1"), ("stream_id", "aaaa"), ("stream_sid", STREAM_SID), ("title", "title"), ("stream_alias", "aaaa"),
          ("stream_attr", "{\"cid\":0}"), ("stream_seq", "1"), ("create_time", "1481597358"), ("create_time_ms", "1481597358012"),
          ("extra_info", ""), ("recreate", "0"), ("publish_id", "888120154"), ("publish_name", "888120154"),
          ("rtmp_url", ["rtmp://rtmp.example.com/live/aaaa"]), ("hls_url", ["https://hls.example.com/live/aaaa/playlist.m3u8"]),
          ("hdl_url", ["https://hdl.example.com/live/aaaa.flv"]), ("pic_url", ["https://pic.example.com/live/aaaa.jpg"])],
    expected_fields=[("room_id", "0xb-0x1"), ("room_session_id", "6085791336856668982"), ("user_id", "888120154"),
                     ("user_name", "888120154"), ("channel_id", "0xb-0x1"), ("stream_id", "aaaa"), ("stream_sid", STREAM_SID),
                     ("title", "title"), ("stream_alias", "aaaa"), ("stream_attr", "{\"cid\":0}"), ("stream_seq", "1"),
                     ("create_time", 1481597358), ("create_time_ms", 1481597358012), ("extra_info", ""), ("recreate", 0),
                     ("publish_id", "888120154"), ("publish_name", "888120154"),
                     ("rtmp_url", ["rtmp://rtmp.example.com/live/aaaa"]), ("hls_url", ["https://hls.example.com/live/aaaa/playlist.m3u8"]),
                     ("hdl_url", ["https://hdl.example.com/live/aaaa.flv"]), ("pic_url", ["https://pic.example.com/live/aaaa.jpg"])],
    key=[STREAM_SID, "1"],
))

EVENTS.append(dict(
    event="stream_close",
    note="The older edition's example (article/9807, form) in its order, completed from its table (stream_id, stream_seq, room_id, user_id, user_name), with a real signature.",
    body=[("stream_sid", STREAM_SID), ("channel_id", "0xb-0x1"), ("type", "0"), ("stream_alias", "aaaa"), ("timestamp", "1481597358"),
          ("nonce", "158273"), ("signature", None), ("appid", "1"), ("event", "stream_close"), ("stream_id", "aaaa"),
          ("stream_seq", "2"), ("room_id", "0xb-0x1"), ("user_id", "888120154"), ("user_name", "888120154")],
    expected_fields=[("room_id", "0xb-0x1"), ("room_session_id", ""), ("user_id", "888120154"), ("user_name", "888120154"),
                     ("channel_id", "0xb-0x1"), ("type", 0), ("type_name", "normal"), ("stream_alias", "aaaa"), ("stream_id", "aaaa"),
                     ("stream_sid", STREAM_SID), ("stream_seq", "2"), ("publish_id", ""), ("publish_name", "")],
    key=[STREAM_SID, "2"],
))

REPLAY = "https://vod.example.com/record/aaaa/1481597358.mp4"
EVENTS.append(dict(
    event="record",
    note="ZEGO's example (cdn/cdn-record-completed) with its placeholder replay_url replaced by a URL and a real signature; its placeholder extra_params is kept: the rule does not parse it.",
    body=[("stream_alias", "aaaa"), ("replay_url", REPLAY), ("begin_time", "1481597358"), ("end_time", "1481597358"),
          ("timestamp", "1481597358"), ("nonce", "158273"), ("signature", None), ("appid", "1"), ("event", "record"),
          ("extra_params", "extra_params")],
    expected_fields=[("stream_alias", "aaaa"), ("replay_url", REPLAY), ("begin_time", 1481597358), ("end_time", 1481597358),
                     ("extra_params", "extra_params")],
    key=["aaaa", REPLAY, "1481597358", "1481597358"],
))

MIX_TASK = "1-mix-task-1"
EVENTS.append(dict(
    event="mix_start",
    note="Assembled from the field table of stream-mixing/started (no example in the stored copy), fields in the page's order; task_id has the appid prefix the page describes.",
    body=[("appid", "1"), ("event", "mix_start"), ("seq", "1"), ("task_id", MIX_TASK), ("channel_id", "room1"), ("publish_id", "456"),
          ("mix_url", "rtmp://publish.example.com/live/stream3"), ("mix_stream_alias", "stream3"),
          ("rtmp_urls", ["rtmp://play.example.com/live/stream3"]), ("hls_urls", ["https://play.example.com/live/stream3.m3u8"]),
          ("hdl_urls", ["https://play.example.com/live/stream3.flv"]), ("stream_alias", "stream3"),
          ("timestamp", "1499676978"), ("nonce", "350176"), ("signature", None)],
    expected_fields=[("seq", "1"), ("task_id", MIX_TASK), ("channel_id", "room1"), ("publish_id", "456"),
                     ("mix_url", "rtmp://publish.example.com/live/stream3"), ("mix_stream_alias", "stream3"),
                     ("rtmp_urls", ["rtmp://play.example.com/live/stream3"]), ("hls_urls", ["https://play.example.com/live/stream3.m3u8"]),
                     ("hdl_urls", ["https://play.example.com/live/stream3.flv"]), ("stream_alias", "stream3")],
    key=["1", MIX_TASK],
))

EVENTS.append(dict(
    event="mix_stop",
    note="Assembled from the field table of stream-mixing/stopped (no example in the stored copy), fields in the page's order.",
    body=[("appid", "1"), ("event", "mix_stop"), ("seq", "2"), ("task_id", MIX_TASK), ("channel_id", "room1"), ("publish_id", "456"),
          ("mix_url", "rtmp://publish.example.com/live/stream3"), ("mix_stream_alias", "stream3"),
          ("timestamp", "1499677978"), ("nonce", "350177"), ("signature", None)],
    expected_fields=[("seq", "2"), ("task_id", MIX_TASK), ("channel_id", "room1"), ("publish_id", "456"),
                     ("mix_url", "rtmp://publish.example.com/live/stream3"), ("mix_stream_alias", "stream3")],
    key=["2", MIX_TASK],
))


def as_text(v):
    if isinstance(v, list):
        return json.dumps(v, separators=(",", ":"))
    return str(v)


def encode_value(v):
    # URL-encode string values (and strings in lists) as ZEGO documents;
    # numbers stay numbers.
    if isinstance(v, str):
        return urllib.parse.quote(v, safe="")
    if isinstance(v, list):
        return [urllib.parse.quote(s, safe="") for s in v]
    return v


def json_text(pairs):
    return "{" + ",".join(json.dumps(k) + ":" + json.dumps(v, separators=(",", ":"), ensure_ascii=False) for k, v in pairs) + "}"


def main():
    cases = []
    for e in EVENTS:
        fields = dict(e["body"])
        ts, nonce = str(fields["timestamp"]), str(fields["nonce"])
        signature, sig_command = sha1sum(SECRET, ts, nonce)
        body = [(k, signature if k == "signature" else v) for k, v in e["body"]]
        app_id = int(fields["appid"])
        doc = envelope(e["event"], app_id, int(ts), nonce)
        doc.update(e["expected_fields"])
        doc["extra"] = {}
        key, key_command = sha256key([str(app_id), e["event"]] + e["key"])
        plain = json_text(body)
        shapes = [
            ("json", "application/json", plain),
            ("json_url_encoded_values", "application/json", json_text([(k, encode_value(v)) for k, v in body])),
            ("whole_body_url_encoded_json", "application/json", urllib.parse.quote(plain, safe="")),
            ("form", "application/x-www-form-urlencoded", urllib.parse.urlencode([(k, as_text(v)) for k, v in body])),
        ]
        for shape, content_type, text in shapes:
            cases.append({
                "name": e["event"] + "_" + shape,
                "event": e["event"],
                "note": e["note"],
                "now": int(ts) + 10 if len(ts) == 10 else int(ts) // 1000 + 10,
                "content_type": content_type,
                "body": text,
                "signature_command": sig_command,
                "expect": {
                    "reason": "ok",
                    "normalized": doc,
                    "idempotency_key": key,
                    "idempotency_key_command": key_command,
                },
            })
    out = {
        "about": "Public test vectors for every event other than compose, one per event and shape ZEGO sends. Each case is verified with the secret below, max_age 300 s, every supported event allowed, at its own unix time 'now'. signature_command made the body's signature and idempotency_key_command the expected IdempotencyID (hex), both outside the code under test; expect.normalized is written by hand from the rules (see events_gen.py, which wrote this file). Key order in normalized is the contract's order.",
        "secret": SECRET,
        "max_age_seconds": MAX_AGE,
        "cases": cases,
    }
    with open("events.json", "w") as f:
        json.dump(out, f, indent=2, ensure_ascii=False)
        f.write("\n")


main()
