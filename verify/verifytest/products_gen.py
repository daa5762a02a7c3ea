#!/usr/bin/env python3
"""Writes products.json: the public vectors for the products other than rtc
(ZIM, AI Agent, Cloud real-time ASR, Cloud Recording, Cloud Player, Digital
Human, Super Board) and for RTC's service events (on-demand transcoding and
screenshots, single-stream transcoding, stream moderation), whose room and
stream events have theirs in events.json.

Nothing here imports or runs the Go code under test. Signatures come from
coreutils' sha1sum and dedupe keys from sha256sum (each case records the
command); the expected documents are written out below by hand from the
rules in verify/rules.go, verify/document.go, docs/events.md and the
tables of verify/events_zim.go, events_aiagent.go, events_rtcservices.go,
events_recording.go, events_player.go and events_superboard.go. Bodies are ZEGO's
examples from ZEGOCLOUD/docs_all (paths in each note), compacted, in the
page's member order, with a real signature; every repair is in the note.
Run from this directory: python3 products_gen.py
"""
import hashlib
import json
import re
import subprocess
import urllib.parse
from datetime import datetime, timezone

SECRET = "a1b2c3d4e5f60718293a4b5c6d7e8f90"
MAX_AGE = 300

ZIM_DOCS = "core_products/zim/en/docs_zim_server/Callbacks/"
ZIM_DOCS_ZH = "core_products/zim/zh/docs_zim_server_zh/Callbacks/"
AI_DOCS = "core_products/aiagent/en/server/callbacks/receiving-callback.mdx"
ASR_DOCS = "extended_services/cloud-realtime-asr/en/server/callbacks/receiving-callback.mdx"

# The envelope's member names: (app id, event, timestamp, nonce, signature).
ENVELOPES = {
    "rtc": ("appid", "event", "timestamp", "nonce", "signature"),
    "zim": ("appid", "event", "timestamp", "nonce", "signature"),
    "ai_agent": ("AppId", "Event", "Timestamp", "Nonce", "Signature"),
    "asr": ("AppId", "Event", "Timestamp", "Nonce", "Signature"),
    "cloud_recording": ("app_id", "event_type", "timestamp", "nonce", "signature"),
    "cloud_player": ("AppID", "EventType", "Timestamp", "Nonce", "Signature"),
    "digital_human": ("AppId", "EventType", "Timestamp", "Nonce", "Signature"),
    "super_board": ("appid", "event", "timestamp", "nonce", "signature"),
}

# RTC's service events that have an envelope of their own.
EVENT_ENVELOPES = {
    ("rtc", "transcode_start"): ("Appid", "Event", "Timestamp", "Nonce", "Signature"),
    ("rtc", "transcode_stop"): ("Appid", "Event", "Timestamp", "Nonce", "Signature"),
}
for _event in ["censor_audio_v2_result", "censor_audio_v2_status", "censor_video_v2_audio_result", "censor_video_v2_img_result",
               "censor_video_v2_audio_status", "censor_video_v2_img_status"]:
    EVENT_ENVELOPES[("rtc", _event)] = ("AppId", "Event", "Timestamp", "Nonce", "Signature")

# The numeric families' event numbers (the body's event member holds the
# number; the document carries the name, then "event_type": the number).
CODES = {
    "cloud_recording": {"upload_status": 1, "abnormal_end": 2, "image_download_failed": 3, "no_streams": 4, "completed": 5,
                        "stream_not_found": 6, "uploading": 7, "m3u8_slice": 102, "paused": 201, "resumed": 202},
    "cloud_player": {"player_created": 1, "player_destroyed": 2, "player_status": 3, "player_exception": 4, "file_uploaded": 10001,
                     "upload_failed": 10002, "upload_status": 10003, "cancel_failed": 10004, "upload_exception": 10005, "file_expired": 10006},
    "digital_human": {"stream_task_status": 3, "drive_task_status": 4},
}


def sha1sum(secret, timestamp, nonce):
    joined = "".join(sorted([secret, timestamp, nonce]))
    assert "'" not in joined
    command = "printf '%s' '" + joined + "' | sha1sum"
    out = subprocess.run(["sh", "-c", command], capture_output=True, text=True, check=True).stdout.split()[0]
    assert out == hashlib.sha1(joined.encode()).hexdigest(), command
    return out, command


def sha256key(parts):
    # NULs between the parts, as the Go code joins them; each \0 in the
    # format is followed by '%', never by a digit printf could read as octal.
    assert all("'" not in p for p in parts)
    fmt = "\\0".join("%s" for _ in parts)
    command = "printf '" + fmt + "' " + " ".join("'" + p + "'" for p in parts) + " | sha256sum | cut -c1-32"
    out = subprocess.run(["sh", "-c", command], capture_output=True, text=True, check=True).stdout.strip()
    assert out == hashlib.sha256("\0".join(parts).encode()).hexdigest()[:32], command
    return out, command


def seconds(ts):
    # A 13-digit timestamp is milliseconds: whole seconds, floor.
    return int(ts) // 1000 if len(ts) == 13 else int(ts)


def sent_at(ts, product):
    # RTC's documents keep whole seconds (events.json); the other products'
    # carry the milliseconds when ZEGO sent them.
    text = datetime.fromtimestamp(seconds(ts), timezone.utc).strftime("%Y-%m-%dT%H:%M:%S")
    if len(ts) == 13 and product != "rtc":
        return text + "." + ts[-3:] + "Z"
    return text + "Z"


def envelope(product, event, app_id, ts, nonce):
    # RTC's documents have no "product" key; a numeric family's carry the
    # event's number after its name.
    doc = {"product": product, "event": event}
    if product == "rtc":
        del doc["product"]
    if product in CODES:
        doc["event_type"] = CODES[product][event]
    doc.update({"app_id": app_id, "timestamp": seconds(ts), "sent_at": sent_at(ts, product), "nonce": nonce})
    return doc


# Each event: the body as ZEGO's page shows it (types as the page shows
# them), the signature a placeholder (None) filled in below; the expected
# fields (every field of the Go table, in table order, written by hand);
# extra (top-level members outside the table and the envelope, in body
# order); the dedupe key parts after the app id and the event (the
# timestamp last, as received, for keyTimestamp events); and a note.
EVENTS = []

# ---------------------------------------------------------------- ZIM ----

EVENTS.append(dict(
    product="zim", event="user_action",
    note="ZEGO's example (" + ZIM_DOCS_ZH + "Login and logout.mdx; the English index has no page for it) with a real signature; os \"PC \" keeps the example's trailing space; relogin is the string \"1\" (ruleUint: 1); offline_time is absent (null, an empty key part).",
    body=[("appid", "1"), ("event", "user_action"), ("timestamp", 1679553625), ("nonce", "350176"), ("signature", None),
          ("user_id", "123456"), ("user_name", "user_name"), ("os", "PC "), ("action", 1), ("session_id", "930821637828251648"),
          ("login_time", 1679553625), ("relogin", "1"), ("logout_time", 1679553625), ("logout_reason", "logout_reason")],
    expected_fields=[("user_id", "123456"), ("user_name", "user_name"), ("os", "PC "), ("action", 1), ("action_name", "logout"),
                     ("session_id", "930821637828251648"), ("login_time", 1679553625), ("relogin", 1), ("logout_time", 1679553625),
                     ("logout_reason", "logout_reason"), ("offline_time", None)],
    key=["123456", "1", "930821637828251648", "1679553625", "1679553625", ""],
    shapes=["json", "json_url_encoded_values"],
))

ROOM_ATTRS = [{"key": "UserSet1", "value": "UserGet1", "auto_delete": 0}, {"key": "UserSet2", "value": "UserGet2", "auto_delete": 0}]
EVENTS.append(dict(
    product="zim", event="room_create",
    note="ZEGO's example (" + ZIM_DOCS + "room/room-created.mdx) with a real signature; repaired: the example's attributes array lacks the comma between its two objects (invalid JSON), added. The table says the timestamp is in ms, the example sends 10 digits (seconds): kept.",
    body=[("appid", "1"), ("event", "room_create"), ("room_id", "1"), ("nonce", "350176"), ("signature", None), ("operator_account", "userA"),
          ("room_name", "room_name"), ("attributes", ROOM_ATTRS), ("timestamp", 1499676978)],
    expected_fields=[("room_id", "1"), ("operator_account", "userA"), ("room_name", "room_name"),
                     ("attributes", [{"key": "UserSet1", "value": "UserGet1", "auto_delete": 0}, {"key": "UserSet2", "value": "UserGet2", "auto_delete": 0}])],
    key=["1", "1499676978"],
    shapes=["json", "form"],
))

EVENTS.append(dict(
    product="zim", event="room_destroy",
    note="ZEGO's example (" + ZIM_DOCS + "room/room-destroyed.mdx) with a real signature; room_id is in the example though not in the page's table.",
    body=[("appid", "1"), ("event", "room_destroy"), ("room_id", "1"), ("nonce", "350176"), ("signature", None),
          ("user_ids", ["Tony", "Jenny"]), ("operator_account", "userA"), ("timestamp", 1499676978)],
    expected_fields=[("room_id", "1"), ("user_ids", ["Tony", "Jenny"]), ("operator_account", "userA")],
    key=["1", "1499676978"],
))

EVENTS.append(dict(
    product="zim", event="room_enter",
    note="ZEGO's example (" + ZIM_DOCS + "room/room-entered.mdx) with a real signature.",
    body=[("appid", "1"), ("event", "room_enter"), ("room_id", "1"), ("nonce", "350176"), ("signature", None),
          ("operator_account", "userA"), ("timestamp", 1499676978)],
    expected_fields=[("room_id", "1"), ("operator_account", "userA")],
    key=["1", "userA", "1499676978"],
))

EVENTS.append(dict(
    product="zim", event="room_exit",
    note="ZEGO's example (" + ZIM_DOCS + "room/room-left.mdx) with a real signature; exit_user_ids is a key: its compact JSON text.",
    body=[("appid", "1"), ("event", "room_exit"), ("room_id", "1"), ("nonce", "350176"), ("signature", None), ("exit_type", "Kickout"),
          ("operator_account", "userA"), ("exit_user_ids", ["Tony", "Jenny"]), ("timestamp", 1499676978)],
    expected_fields=[("room_id", "1"), ("exit_type", "Kickout"), ("operator_account", "userA"), ("exit_user_ids", ["Tony", "Jenny"])],
    key=["1", "userA", "[\"Tony\",\"Jenny\"]", "1499676978"],
))

EVENTS.append(dict(
    product="zim", event="group_create",
    note="ZEGO's example (" + ZIM_DOCS + "group/group-created.mdx, whose stored copy is the Chinese text) with a real signature; repaired: the attributes array lacks the comma between its two objects (invalid JSON), added.",
    body=[("appid", "1"), ("event", "group_create"), ("group_id", "1"), ("nonce", "350176"), ("signature", None), ("operator_account", "userA"),
          ("owner_account", "operator_account"), ("group_name", "group_name"),
          ("attributes", [{"key": "UserSet1", "value": "UserGet1"}, {"key": "UserSet2", "value": "UserGet2"}]),
          ("timestamp", 1499676978), ("user_ids", ["Tony", "Jenny"])],
    expected_fields=[("group_id", "1"), ("operator_account", "userA"), ("owner_account", "operator_account"), ("group_name", "group_name"),
                     ("attributes", [{"key": "UserSet1", "value": "UserGet1"}, {"key": "UserSet2", "value": "UserGet2"}]),
                     ("user_ids", ["Tony", "Jenny"])],
    key=["1", "1499676978"],
))

EVENTS.append(dict(
    product="zim", event="group_destroy",
    note="ZEGO's example (" + ZIM_DOCS + "group/group-destroyed.mdx) with a real signature; repaired: its timestamp is the string \"1499676978\", sent here as the JSON number the other ZIM examples use (the digits, and so the signature, are the same).",
    body=[("appid", "1"), ("event", "group_destroy"), ("group_id", "1"), ("nonce", "350176"), ("signature", None), ("owner_account", "userA"),
          ("user_ids", ["Tony", "Jenny"]), ("operator_account", "userA"), ("timestamp", 1499676978)],
    expected_fields=[("group_id", "1"), ("operator_account", "userA"), ("owner_account", "userA"), ("user_ids", ["Tony", "Jenny"])],
    key=["1", "1499676978"],
))

EVENTS.append(dict(
    product="zim", event="group_join",
    note="ZEGO's example (" + ZIM_DOCS + "group/group-joined.mdx) with a real signature; repaired: its event is \"Apply_join_group\" (the table and the Chinese example say group_join), and its timestamp the string \"1499676978\", sent as a JSON number.",
    body=[("appid", "1"), ("event", "group_join"), ("group_id", "1"), ("nonce", "350176"), ("signature", None), ("operator_account", "userA"),
          ("join_type", "Apply"), ("new_user_ids", ["Tony", "Jenny"]), ("timestamp", 1499676978)],
    expected_fields=[("group_id", "1"), ("operator_account", "userA"), ("join_type", "Apply"), ("new_user_ids", ["Tony", "Jenny"])],
    key=["1", "[\"Tony\",\"Jenny\"]", "1499676978"],
))

EVENTS.append(dict(
    product="zim", event="group_exit",
    note="ZEGO's example (" + ZIM_DOCS + "group/group-left.mdx) with a real signature.",
    body=[("appid", "1"), ("event", "group_exit"), ("group_id", "1"), ("nonce", "350176"), ("signature", None), ("exit_type", "Kickout"),
          ("operator_account", "userA"), ("exit_user_ids", ["Tony", "Jenny"]), ("timestamp", 1499676978)],
    expected_fields=[("group_id", "1"), ("exit_type", "Kickout"), ("operator_account", "userA"), ("exit_user_ids", ["Tony", "Jenny"])],
    key=["1", "[\"Tony\",\"Jenny\"]", "1499676978"],
))

CALL_ID = "3501761173612493269"
EVENTS.append(dict(
    product="zim", event="call_create",
    note="ZEGO's example (" + ZIM_DOCS_ZH + "Call invitation sent.mdx; no English page is stored) with a real signature.",
    body=[("appid", "1"), ("event", "call_create"), ("nonce", "350176"), ("signature", None), ("timestamp", 1499676978), ("call_id", CALL_ID),
          ("user_ids", ["abc", "def"]), ("create_time", 1499676968), ("payload", "payload"), ("caller", "caller"), ("timeout", 90)],
    expected_fields=[("call_id", CALL_ID), ("user_ids", ["abc", "def"]), ("create_time", 1499676968), ("payload", "payload"),
                     ("caller", "caller"), ("timeout", 90)],
    key=[CALL_ID],
))

EVENTS.append(dict(
    product="zim", event="call_cancel",
    note="ZEGO's example (" + ZIM_DOCS + "Call invitation canceled.mdx) with a real signature; repaired: the trailing comma after payload (invalid JSON) removed.",
    body=[("appid", "1"), ("event", "call_cancel"), ("nonce", "350176"), ("signature", None), ("timestamp", 1499676978), ("call_id", CALL_ID),
          ("user_ids", ["abc", "def"]), ("reason", "caller_cancel"), ("payload", "payload")],
    expected_fields=[("call_id", CALL_ID), ("user_ids", ["abc", "def"]), ("reason", "caller_cancel"), ("payload", "payload")],
    key=[CALL_ID],
))

EVENTS.append(dict(
    product="zim", event="call_accept",
    note="ZEGO's example (" + ZIM_DOCS + "Call invitation accepted.mdx) with a real signature.",
    body=[("appid", "1"), ("event", "call_accept"), ("nonce", "350176"), ("signature", None), ("timestamp", 1499676978), ("call_id", CALL_ID),
          ("user_id", "abc"), ("extend_data", "extendData")],
    expected_fields=[("call_id", CALL_ID), ("user_id", "abc"), ("extend_data", "extendData")],
    key=[CALL_ID, "abc"],
))

EVENTS.append(dict(
    product="zim", event="call_reject",
    note="ZEGO's example (" + ZIM_DOCS + "Call invitation rejected.mdx) with a real signature.",
    body=[("appid", "1"), ("event", "call_reject"), ("nonce", "350176"), ("signature", None), ("timestamp", 1499676978), ("call_id", CALL_ID),
          ("user_id", "abc"), ("extend_data", "extendData")],
    expected_fields=[("call_id", CALL_ID), ("user_id", "abc"), ("extend_data", "extendData")],
    key=[CALL_ID, "abc"],
))

EVENTS.append(dict(
    product="zim", event="call_timeout",
    note="ZEGO's example (" + ZIM_DOCS + "Call invitation timed out.mdx) verbatim but for the signature; user_ids is a key: its compact JSON text.",
    body=[("appid", "1"), ("event", "call_timeout"), ("nonce", "350176"), ("signature", None), ("timestamp", 1499676978), ("call_id", CALL_ID),
          ("user_ids", ["abc", "def"])],
    expected_fields=[("call_id", CALL_ID), ("user_ids", ["abc", "def"])],
    key=[CALL_ID, "[\"abc\",\"def\"]"],
))

EVENTS.append(dict(
    product="zim", event="call_invite",
    note="ZEGO's example (" + ZIM_DOCS + "call-invitation-during-a-call.mdx) with a real signature; invite_time is 13 digits (ms), a uint.",
    body=[("appid", "1"), ("event", "call_invite"), ("nonce", "350176"), ("signature", None), ("timestamp", 1499676978), ("call_id", CALL_ID),
          ("user_ids", ["abc", "def"]), ("inviter", "aaa"), ("invite_time", 1499676978000)],
    expected_fields=[("call_id", CALL_ID), ("user_ids", ["abc", "def"]), ("inviter", "aaa"), ("invite_time", 1499676978000)],
    key=[CALL_ID, "[\"abc\",\"def\"]", "aaa", "1499676978000"],
))

EVENTS.append(dict(
    product="zim", event="before_send_msg",
    note="ZEGO's example (" + ZIM_DOCS + "Message not sent yet.mdx) verbatim but for the signature (its nonce \"321\" kept).",
    body=[("appid", "1"), ("event", "before_send_msg"), ("from_user_id", "sender"), ("conv_id", "receiver"), ("request_id", "3501907290370176"),
          ("msg_id", "1234232421343"), ("conv_type", 0), ("timestamp", 1499676968), ("msg_body", "msg_body"), ("msg_type", 1),
          ("signature", None), ("nonce", "321"), ("sub_msg_type", 0), ("payload", "payload")],
    expected_fields=[("request_id", "3501907290370176"), ("from_user_id", "sender"), ("conv_id", "receiver"), ("conv_type", 0),
                     ("conv_type_name", "peer"), ("msg_id", "1234232421343"), ("payload", "payload"), ("msg_type", 1), ("sub_msg_type", 0),
                     ("msg_body", "msg_body")],
    key=["3501907290370176"],
))

EVENTS.append(dict(
    product="zim", event="send_msg",
    note="ZEGO's example (" + ZIM_DOCS + "Message sent.mdx) with a real signature; conv_id \"\" is absent (\"\"); payload is in the example, not in send_msg's table: a field all the same; user_list is absent ([]).",
    body=[("appid", "1"), ("event", "send_msg"), ("nonce", "350176"), ("signature", None), ("timestamp", 1679553625), ("from_user_id", "350176117361"),
          ("conv_type", 2), ("conv_id", ""), ("msg_type", 1), ("msg_body", "msg_body"), ("msg_id", "857639062792568832"), ("payload", "payload"),
          ("msg_time", 1679554146000), ("send_result", 0), ("sub_msg_type", 0)],
    expected_fields=[("from_user_id", "350176117361"), ("conv_type", 2), ("conv_type_name", "group"), ("conv_id", ""), ("msg_type", 1),
                     ("sub_msg_type", 0), ("source", None), ("msg_body", "msg_body"), ("payload", "payload"), ("msg_id", "857639062792568832"),
                     ("msg_seq", None), ("msg_time", 1679554146000), ("send_result", 0), ("user_list", [])],
    key=["350176117361", "", "857639062792568832", "1679554146000", "[]"],
))

EVENTS.append(dict(
    product="zim", event="bot_msg",
    note="ZEGO's example (" + ZIM_DOCS + "One to one conversation bot message sent.mdx) with a real signature; repaired: the trailing comma inside each user_list object (invalid JSON) removed. payload, in the example but not in the table, is a field all the same; user_list's MsgSeq is absent (null).",
    body=[("appid", "1"), ("event", "bot_msg"), ("nonce", "350176"), ("signature", None), ("timestamp", 1679553625), ("from_user_id", "350176117361"),
          ("conv_type", 0), ("conv_id", ""), ("msg_type", 1), ("msg_body", "msg_body"), ("msg_id", "857639062792568832"), ("payload", "payload"),
          ("msg_time", 1679554146000), ("send_result", 0), ("sub_msg_type", 0),
          ("user_list", [{"UserId": "userid1", "MsgId": "857639062792568822"}, {"UserId": "userid2", "MsgId": "857639062792568833"}])],
    expected_fields=[("from_user_id", "350176117361"), ("conv_type", 0), ("conv_type_name", "peer"), ("conv_id", ""), ("msg_type", 1),
                     ("sub_msg_type", 0), ("msg_body", "msg_body"), ("payload", "payload"), ("msg_id", "857639062792568832"), ("msg_seq", None),
                     ("msg_time", 1679554146000), ("send_result", 0),
                     ("user_list", [{"UserId": "userid1", "MsgId": "857639062792568822", "MsgSeq": None},
                                    {"UserId": "userid2", "MsgId": "857639062792568833", "MsgSeq": None}])],
    key=["350176117361", "", "857639062792568832", "1679554146000", '[{"UserId":"userid1","MsgId":"857639062792568822","MsgSeq":null},{"UserId":"userid2","MsgId":"857639062792568833","MsgSeq":null}]'],
))

# ----------------------------------------------------------- AI Agent ----
# Every example: AppId 1234567 (a JSON number), Nonce "7450395512627324902",
# Timestamp 1745502313000 (ms). Dedupe key: AgentInstanceId and Sequence
# (absent in the first three examples: the timestamp as received stands
# in); Data's members are no keys.

AGENT = "1912124734317838336"
AI_NONCE = "7450395512627324902"
AI_TS = 1745502313000


def ai_common(instance_fields):
    # AgentInstanceId, AgentUserId, AgentId, Name, RoomId, Sequence as the
    # document writes them; Data follows.
    d = {"AgentInstanceId": AGENT, "AgentUserId": "", "AgentId": "", "Name": "", "RoomId": "", "Sequence": ""}
    d.update(instance_fields)
    return list(d.items())


# Sequence is a big identifier: written as a string of its digits.
FULL = {"AgentUserId": "agent_user_1", "RoomId": "room_1", "Sequence": "1234567890"}

EVENTS.append(dict(
    product="ai_agent", event="ASRResult",
    note="ZEGO's example (" + AI_DOCS + ", ASRResult) verbatim but for the signature; AgentUserId, AgentId, Name, RoomId and Sequence are absent.",
    body=[("AppId", 1234567), ("AgentInstanceId", AGENT), ("Data", {"UserId": "user_1", "Round": 650459806, "Text": "Hello"}),
          ("Event", "ASRResult"), ("Nonce", AI_NONCE), ("Signature", None), ("Timestamp", AI_TS)],
    expected_fields=ai_common({}) + [("Data", {"UserId": "user_1", "Round": 650459806, "Text": "Hello"})],
    key=[AGENT, str(AI_TS)],
))

EVENTS.append(dict(
    product="ai_agent", event="LLMResult",
    note="ZEGO's example (" + AI_DOCS + ", LLMResult) with a real signature.",
    body=[("AppId", 1234567), ("AgentInstanceId", AGENT), ("Data", {"Round": 650459806, "Text": "Hi there, you look full of energy today."}),
          ("Event", "LLMResult"), ("Nonce", AI_NONCE), ("Signature", None), ("Timestamp", AI_TS)],
    expected_fields=ai_common({}) + [("Data", {"Round": 650459806, "Text": "Hi there, you look full of energy today."})],
    key=[AGENT, str(AI_TS)],
    shapes=["json", "json_url_encoded_values"],
))

EVENTS.append(dict(
    product="ai_agent", event="Exception",
    note="ZEGO's example (" + AI_DOCS + ", Exception) with a real signature; Data has no Round (null).",
    body=[("AppId", 1234567), ("AgentInstanceId", AGENT), ("Data", {"Code": 1001, "Message": "AI Agent general error"}),
          ("Event", "Exception"), ("Nonce", AI_NONCE), ("Signature", None), ("Timestamp", AI_TS)],
    expected_fields=ai_common({}) + [("Data", {"Code": 1001, "Message": "AI Agent general error", "Round": None})],
    key=[AGENT, str(AI_TS)],
))

EVENTS.append(dict(
    product="ai_agent", event="Interrupted",
    note="ZEGO's example (" + AI_DOCS + ", Interrupted) with a real signature; repaired: the doubled comma after \"agent_user_1\" (invalid JSON) made one. Data has no PlayedText (\"\").",
    body=[("AppId", 1234567), ("AgentInstanceId", AGENT), ("AgentUserId", "agent_user_1"), ("RoomId", "room_1"), ("Sequence", 1234567890),
          ("Data", {"Round": 650459806, "Reason": 1}), ("Event", "Interrupted"), ("Nonce", AI_NONCE), ("Signature", None), ("Timestamp", AI_TS)],
    expected_fields=ai_common(FULL) + [("Data", {"Round": 650459806, "Reason": 1, "PlayedText": ""})],
    key=[AGENT, "1234567890"],
))

EVENTS.append(dict(
    product="ai_agent", event="UserSpeakAction",
    note="ZEGO's example (" + AI_DOCS + ", UserSpeakAction) with a real signature; repaired: the doubled comma after \"agent_user_1\" made one. Data has no Round (null).",
    body=[("AppId", 1234567), ("AgentInstanceId", AGENT), ("AgentUserId", "agent_user_1"), ("RoomId", "room_1"), ("Sequence", 1234567890),
          ("Data", {"UserId": "user_1", "Action": "SPEAK_BEGIN"}), ("Event", "UserSpeakAction"), ("Nonce", AI_NONCE), ("Signature", None), ("Timestamp", AI_TS)],
    expected_fields=ai_common(FULL) + [("Data", {"UserId": "user_1", "Action": "SPEAK_BEGIN", "Round": None})],
    key=[AGENT, "1234567890"],
))

EVENTS.append(dict(
    product="ai_agent", event="AgentInstanceStatus",
    note="ZEGO's AgentInstanceStatus example (" + AI_DOCS + ") with a real signature; repaired: the doubled comma after \"agent_user_1\" made one, and its Event \"AgentSpeakAction\" (the deprecated name) made AgentInstanceStatus; the example as ZEGO wrote it is the AgentSpeakAction vector.",
    body=[("AppId", 1234567), ("AgentInstanceId", AGENT), ("AgentUserId", "agent_user_1"), ("RoomId", "room_1"), ("Sequence", 1234567890),
          ("Data", {"Status": "LISTENING"}), ("Event", "AgentInstanceStatus"), ("Nonce", AI_NONCE), ("Signature", None), ("Timestamp", AI_TS)],
    expected_fields=ai_common(FULL) + [("Data", {"Status": "LISTENING", "Round": None})],
    key=[AGENT, "1234567890"],
))

EVENTS.append(dict(
    product="ai_agent", event="UserAudioData",
    note="ZEGO's example (" + AI_DOCS + ", UserAudioData) with a real signature; its placeholder Audio \"base64_encoded_audio_data\" is kept: the rule is text, not base64.",
    body=[("AppId", 1234567), ("AgentInstanceId", AGENT), ("AgentUserId", "agent_user_1"), ("RoomId", "room_1"), ("Sequence", 1234567890),
          ("Data", {"UserId": "user_1", "Round": 123456, "SampleRate": 16000, "Format": "pcm", "Audio": "base64_encoded_audio_data"}),
          ("Event", "UserAudioData"), ("Nonce", AI_NONCE), ("Signature", None), ("Timestamp", AI_TS)],
    expected_fields=ai_common(FULL) + [("Data", {"UserId": "user_1", "Round": 123456, "SampleRate": 16000, "Format": "pcm", "Audio": "base64_encoded_audio_data"})],
    key=[AGENT, "1234567890"],
))

EVENTS.append(dict(
    product="ai_agent", event="AgentInstanceCreated",
    note="ZEGO's example (" + AI_DOCS + ", AgentInstanceCreated) with a real signature.",
    body=[("AppId", 1234567), ("AgentInstanceId", AGENT), ("AgentUserId", "agent_user_1"), ("RoomId", "room_1"), ("Sequence", 1234567890),
          ("Data", {"CreatedTimestamp": 1745502312982}), ("Event", "AgentInstanceCreated"), ("Nonce", AI_NONCE), ("Signature", None), ("Timestamp", AI_TS)],
    expected_fields=ai_common(FULL) + [("Data", {"CreatedTimestamp": 1745502312982})],
    key=[AGENT, "1234567890"],
))

LATENCY = {"LLMTTFT": 613, "LLMTPS": 11.493, "TTSAudioFirstFrameTime": 783, "TotalCost": 1693}
EVENTS.append(dict(
    product="ai_agent", event="AgentInstanceDeleted",
    note="ZEGO's example (" + AI_DOCS + ", AgentInstanceDeleted) with a real signature; LatencyData's numbers are written as received (LLMTPS 11.493 a fraction). In the form, Data is its JSON text.",
    body=[("AppId", 1234567), ("AgentInstanceId", AGENT), ("AgentUserId", "agent_user_1"), ("RoomId", "room_1"), ("Sequence", 1234567890),
          ("Data", {"Code": 0, "DeletedTimestamp": 1745502345138, "LatencyData": LATENCY}),
          ("Event", "AgentInstanceDeleted"), ("Nonce", AI_NONCE), ("Signature", None), ("Timestamp", AI_TS)],
    expected_fields=ai_common(FULL) + [("Data", {"Code": 0, "DeletedTimestamp": 1745502345138,
                                                 "LatencyData": {"LLMTTFT": 613, "LLMTPS": 11.493, "TTSAudioFirstFrameTime": 783, "TotalCost": 1693}})],
    key=[AGENT, "1234567890"],
    shapes=["json", "form"],
))

EVENTS.append(dict(
    product="ai_agent", event="AgentInstanceMetaInfo",
    note="ZEGO's example (" + AI_DOCS + ", AgentInstanceMetaInfo) with a real signature; MetaInfo is an object, its members kept as received.",
    body=[("AppId", 1234567), ("AgentInstanceId", AGENT), ("AgentUserId", "agent_user_1"), ("RoomId", "room_1"), ("Sequence", 1234567890),
          ("Data", {"Round": 123456, "MetaInfo": {"action": "action"}}),
          ("Event", "AgentInstanceMetaInfo"), ("Nonce", AI_NONCE), ("Signature", None), ("Timestamp", AI_TS)],
    expected_fields=ai_common(FULL) + [("Data", {"Round": 123456, "MetaInfo": {"action": "action"}})],
    key=[AGENT, "1234567890"],
))

EVENTS.append(dict(
    product="ai_agent", event="AgentSpeakAction",
    note="ZEGO's AgentInstanceStatus example (" + AI_DOCS + "), whose Event is the deprecated AgentSpeakAction, with a real signature; repaired: the doubled comma after \"agent_user_1\" made one. Data has no Action (\"\") nor Round (null).",
    body=[("AppId", 1234567), ("AgentInstanceId", AGENT), ("AgentUserId", "agent_user_1"), ("RoomId", "room_1"), ("Sequence", 1234567890),
          ("Data", {"Status": "LISTENING"}), ("Event", "AgentSpeakAction"), ("Nonce", AI_NONCE), ("Signature", None), ("Timestamp", AI_TS)],
    expected_fields=ai_common(FULL) + [("Data", {"Status": "LISTENING", "Action": "", "Round": None})],
    key=[AGENT, "1234567890"],
))

# ---------------------------------------------------------------- ASR ----
# Every example: AppId 1285661813, Nonce "7503829353462121337", Timestamp
# 1747121418250 (ms), TaskId "1922184164614877184", RoomId "111". Dedupe
# key: TaskId, Data's UserId, StreamId and Round, and the timestamp.

TASK = "1922184164614877184"
ASR_NONCE = "7503829353462121337"
ASR_TS = 1747121418250
ASR_TEXT = "Hello, I am ZEGOCLOUD real-time speech recognition service"

EVENTS.append(dict(
    product="asr", event="ASRResult",
    note="ZEGO's example (" + ASR_DOCS + ", ASRResult) verbatim but for the signature; Data has no StreamId (\"\", an empty key part).",
    body=[("AppId", 1285661813), ("Data", {"Round": 67202235, "Text": ASR_TEXT, "UserId": "abcd123"}), ("Event", "ASRResult"),
          ("Nonce", ASR_NONCE), ("RoomId", "111"), ("Signature", None), ("TaskId", TASK), ("Timestamp", ASR_TS)],
    expected_fields=[("TaskId", TASK), ("RoomId", "111"), ("Data", {"UserId": "abcd123", "StreamId": "", "Round": 67202235, "Text": ASR_TEXT})],
    key=[TASK, "abcd123", "", "67202235", str(ASR_TS)],
    shapes=["json", "json_url_encoded_values", "form"],
))

EVENTS.append(dict(
    product="asr", event="TranslationResult",
    note="ZEGO's example (" + ASR_DOCS + ", TranslationResult) with a real signature; Data has no StreamId.",
    body=[("AppId", 1285661813), ("Data", {"Round": 67202235, "Text": ASR_TEXT, "UserId": "abcd123"}), ("Event", "TranslationResult"),
          ("Nonce", ASR_NONCE), ("RoomId", "111"), ("Signature", None), ("TaskId", TASK), ("Timestamp", ASR_TS)],
    expected_fields=[("TaskId", TASK), ("RoomId", "111"), ("Data", {"UserId": "abcd123", "StreamId": "", "Round": 67202235, "Text": ASR_TEXT})],
    key=[TASK, "abcd123", "", "67202235", str(ASR_TS)],
))

EVENTS.append(dict(
    product="asr", event="Exception",
    note="ZEGO's example (" + ASR_DOCS + ", Exception) with a real signature; Data's Code and Message are no keys.",
    body=[("AppId", 1285661813), ("Data", {"Code": 1001, "Message": "General error"}), ("Event", "Exception"),
          ("Nonce", ASR_NONCE), ("RoomId", "111"), ("Signature", None), ("TaskId", TASK), ("Timestamp", ASR_TS)],
    expected_fields=[("TaskId", TASK), ("RoomId", "111"), ("Data", {"Code": 1001, "Message": "General error"})],
    key=[TASK, str(ASR_TS)],
))

# ---------------------------------------------------- RTC's services ----
# RTC documents have no "product" key and their sent_at is whole seconds
# (events.json's convention); the timestamp is read by magnitude (13 digits
# are ms). The transcoding events sign with Event/Appid/Timestamp/Nonce/
# Signature, the moderation events with Event/AppId/...

RTC_CDN_DOCS = "core_products/real-time-voice-video/en/server/callback/cdn/"
RTC_TRANSCODE_DOCS = "core_products/real-time-voice-video/en/server/callback/transcoding/"
RTC_MODERATION_DOCS = "core_products/real-time-voice-video/en/server/callback/moderation/"
# The CDN pages' examples send the nine-digit placeholder "148150008"
# (1974 read as seconds, and older than any max_age the module accepts):
# replaced by ten digits, a string as the pages type it.
RTC_CDN_TS = "1724743250"


def form_decoded(s):
    # A string value holding at least one valid %XX escape is URL-decoded
    # once with form rules ('+' a space, a '%' that starts no valid escape
    # kept); any other is kept exactly (docs/events.md, Body shapes).
    if re.search("%[0-9A-Fa-f]{2}", s):
        return urllib.parse.unquote_plus(s)
    return s


EVENTS.append(dict(
    product="rtc", event="procedure",
    note="ZEGO's example (" + RTC_CDN_DOCS + "on-demand-transcoding-completed.mdx) with a real signature; repaired: its // comments (invalid JSON) removed, and its nine-digit placeholder timestamp \"148150008\" (1974 as seconds, beyond the 10-year max_age cap) made \"1724743250\". Kept: appid \"12345\" a string, file_id as the example spells it (the table says fileId; the rule reads file_id), extra_params the placeholder word (json text, written as the string received).",
    body=[("appid", "12345"), ("event", "procedure"), ("task_id", "xxxxx"), ("status", "SUCCESS"), ("file_id", "3270835010897125368"),
          ("extra_params", "extra_params"), ("timestamp", RTC_CDN_TS), ("nonce", "158243"), ("signature", None)],
    expected_fields=[("task_id", "xxxxx"), ("status", "SUCCESS"), ("file_id", "3270835010897125368"), ("extra_params", "extra_params")],
    key=["xxxxx"],
    shapes=["json", "json_url_encoded_values", "form"],
))

PROCEDURE_MEDIA = {"media": {"transcode": [{"code": "0", "message": "SUCCESS", "replay_url": "http://vod-tencent-eddietest.zego.im/playlist.m3u8",
                                            "size": 6833612, "duration": 170.612,
                                            "video": {"bitrate": 205290, "codec": "hevc", "fps": 15, "height": 540, "width": 960},
                                            "audio": {"bitrate": 49040, "codec": "aac", "sampling_rate": 44100}}]}}
EVENTS.append(dict(
    product="rtc", event="procedure", variant="extra_params_object",
    note="ZEGO's example (" + RTC_CDN_DOCS + "on-demand-transcoding-completed.mdx) with a real signature, its timestamp repaired as in rtc_procedure_json, and, for extra_params, the page's documented content (its // comments removed) sent as a JSON object: a json text field holding an object is written as the object's JSON text (here the compact text received; in the form, the same text as a string).",
    body=[("appid", "12345"), ("event", "procedure"), ("task_id", "xxxxx"), ("status", "SUCCESS"), ("file_id", "3270835010897125368"),
          ("extra_params", PROCEDURE_MEDIA), ("timestamp", RTC_CDN_TS), ("nonce", "158243"), ("signature", None)],
    expected_fields=[("task_id", "xxxxx"), ("status", "SUCCESS"), ("file_id", "3270835010897125368"),
                     ("extra_params", json.dumps(PROCEDURE_MEDIA, separators=(",", ":")))],
    key=["xxxxx"],
    shapes=["json", "form"],
))

SNAPSHOT_PICS = [{"url": "http://abc.com/1.jpg", "offset": 0}, {"url": "http://abc.com/1.jpg", "offset": 0}]
EVENTS.append(dict(
    product="rtc", event="snapshot",
    note="ZEGO's example (" + RTC_CDN_DOCS + "media-thumbnails-completed.mdx) with a real signature; repaired: the missing comma after signature and the trailing comma after snapshot_pic_list (invalid JSON), and the nine-digit placeholder timestamp \"148150008\" made \"1724743250\". snapshot_pic_list is sent, as in the example, as a string holding the JSON array (\"JSON array format string\"): written as the array, offset a number as received. field_id is the page's spelling (table and example).",
    body=[("appid", "12345"), ("event", "snapshot"), ("timestamp", RTC_CDN_TS), ("nonce", "158243"), ("signature", None),
          ("task_id", "1253642700910365374"), ("field_id", "abcwurywbhsfwi"), ("vendor", "tencent"),
          ("snapshot_pic_list", json.dumps(SNAPSHOT_PICS, separators=(",", ":")))],
    expected_fields=[("task_id", "1253642700910365374"), ("vendor", "tencent"), ("field_id", "abcwurywbhsfwi"),
                     ("snapshot_pic_list", SNAPSHOT_PICS)],
    key=["1253642700910365374"],
    shapes=["json", "json_url_encoded_values", "form"],
))

EVENTS.append(dict(
    product="rtc", event="snapshot", variant="array",
    note="ZEGO's snapshot example (" + RTC_CDN_DOCS + "media-thumbnails-completed.mdx), repaired as in rtc_snapshot_json, with snapshot_pic_list sent as the JSON array the table types it as (Array SnapshotPicObject).",
    body=[("appid", "12345"), ("event", "snapshot"), ("timestamp", RTC_CDN_TS), ("nonce", "158243"), ("signature", None),
          ("task_id", "1253642700910365374"), ("field_id", "abcwurywbhsfwi"), ("vendor", "tencent"), ("snapshot_pic_list", SNAPSHOT_PICS)],
    expected_fields=[("task_id", "1253642700910365374"), ("vendor", "tencent"), ("field_id", "abcwurywbhsfwi"),
                     ("snapshot_pic_list", SNAPSHOT_PICS)],
    key=["1253642700910365374"],
))

TRANSCODE_DETAILS = {"Input": {"StreamId": "2222"},
                     "Outputs": [{"StreamId": "2222", "VideoEncId": 0, "Fps": 0, "ShortEdgeAdaption": 0, "Width": 1280, "Height": 720,
                                  "VideoBitrate": 0, "GOP": 2}]}
EVENTS.append(dict(
    product="rtc", event="transcode_start",
    note="ZEGO's example (" + RTC_TRANSCODE_DOCS + "on-demand-transcoding-started.mdx) with a real signature; repaired: its placeholder Timestamp \"timestamp\" (not digits) made \"1724743250\" (a string, as the page types it). Kept: Nonce \"nonce\" (a valid nonce). Details' Input and Outputs lack StreamUrl (\"\"); Outputs' members are written in table order.",
    body=[("Event", "transcode_start"), ("Appid", "111111"), ("Timestamp", "1724743250"), ("Nonce", "nonce"), ("Signature", None),
          ("TaskId", "2222"), ("UserId", "2222"), ("Sequence", 0), ("Status", "TranscodeStarted"), ("Details", TRANSCODE_DETAILS)],
    expected_fields=[("TaskId", "2222"), ("UserId", "2222"), ("Sequence", 0), ("Status", "TranscodeStarted"),
                     ("Details", {"Input": {"StreamId": "2222", "StreamUrl": ""},
                                  "Outputs": [{"StreamId": "2222", "StreamUrl": "", "VideoEncId": 0, "VideoBitrate": 0, "ShortEdgeAdaption": 0,
                                               "Fps": 0, "Width": 1280, "Height": 720, "GOP": 2}]})],
    key=["2222", "0", "TranscodeStarted"],
    shapes=["json", "json_url_encoded_values", "form"],
))

EVENTS.append(dict(
    product="rtc", event="transcode_stop",
    note="ZEGO's example (" + RTC_TRANSCODE_DOCS + "on-demand-transcoding-stopped.mdx) with a real signature; repaired: its placeholder Timestamp \"timestamp\" made the 13 digits \"1724743250123\" (the page states no unit: milliseconds by magnitude; an rtc document's sent_at is whole seconds). Kept: Nonce \"nonce\", and Status \"TranscodeStarted\" though the table says TranscodeStopped (not checked). StopReason 0 is user.",
    body=[("Event", "transcode_stop"), ("Appid", "111111"), ("Timestamp", "1724743250123"), ("Nonce", "nonce"), ("Signature", None),
          ("TaskId", "2222"), ("UserId", "2222"), ("Sequence", 0), ("Status", "TranscodeStarted"), ("StopReason", 0)],
    expected_fields=[("TaskId", "2222"), ("UserId", "2222"), ("Sequence", 0), ("Status", "TranscodeStarted"), ("StopReason", 0),
                     ("StopReason_name", "user")],
    key=["2222", "0"],
    shapes=["json", "form"],
))

# The moderation examples, as the MDX shows them but for the // comment
# lines and the trailing commas (invalid JSON) and the signature; every
# example has the same Timestamp 1724743250 (seconds), Nonce and
# placeholder Signature.
MOD_AUDIO_RESULT = r'''{"Event":"censor_audio_v2_result","AppId":1,"Timestamp":1724743250,"Nonce":"7407715855877898783","Signature":null,"Code":0,"Message":"success","TaskId":"384a8a77aeb352d3ec8144ab4640cc52","ResultTaskId":"384a8a77aeb352d3ec8144ab4640cc52_2","Detail":{"RiskLevel":"REJECT","AudioText":"加个好友吧 qq12345","AudioUrl":"http://xxxx/POST_AUDIOSTREAM%2FMP3%2F20240606%2F384a8a77aeb352d3ec8144ab4640cc52_2.mp3?Expires=1720269317&OSSAccessKeyId=LTAI5tLsVBxJ8nhyy5gQVW3K&Signature=8JZymbV%2F6Psm72k6S2Xq3Dcrg14%3D","PreAudioUrl":"http://xxxx/POST_AUDIOSTREAM%2FMP3%2F20240606%2F384a8a77aeb352d3ec8144ab4640cc52_2_pre.mp3?Expires=1720269317&OSSAccessKeyId=LTAI5tLsVBxJ8nhyy5gQVW3K&Signature=BKUDNNWPklQldaEMSFOvSts6O84%3D","RiskDescription":"广告:联系方式:联系方式","RiskLabel1":"ad","RiskLabel2":"lianxifangshi","RiskLabel3":"lianxifangshi","VadStatus":1,"RiskDetail":{"RiskSource":1001,"AudioText":"加个好友吧 qq12345","MatchedLists":null},"RiskInfoList":[{"RiskLevel":"REJECT","RiskDescription":"广告:联系方式:联系方式","RiskLabel1":"ad","RiskLabel2":"lianxifangshi","RiskLabel3":"lianxifangshi","RiskDetail":{"RiskSource":1001,"AudioText":"加个好友吧 qq12345","MatchedLists":null}},{"RiskLevel":"REJECT","RiskDescription":"广告:联系方式:联系方式","RiskLabel1":"ad","RiskLabel2":"lianxifangshi","RiskLabel3":"lianxifangshi","RiskDetail":{"RiskSource":1001,"AudioText":"加个好友吧 qq12345","MatchedLists":null}}],"BusinessInfoList":[{"BusinessDescription":"语种:普通话:普通话","BusinessLabel1":"language","BusinessLabel2":"Chinese","BusinessLabel3":"Chinese"}]},"AuxInfo":{"RoomId":"room_1","ProcessBeginTime":1717677317155,"ProcessFinishTime":1717677317554,"UserId":"user_1"}}'''
MOD_VIDEO_AUDIO_RESULT = r'''{"Event":"censor_video_v2_audio_result","AppId":1,"Timestamp":1724743250,"Nonce":"7407715855877898783","Signature":null,"Code":0,"Message":"成功","TaskId":"f5312a47e068e934c05bab75d917e48e","ResultTaskId":"f5312a47e068e934c05bab75d917e48e_s_1_1","Detail":{"RiskLevel":"REJECT","Content":"加个好友吧 qq12345","AudioUrl":"http://xxxxx1.cn-shanghai.oss.xxxxx.com/POST_VIDEOSTREAM%2FPOST_VIDEOSTREAM_AUDIO%xxxxxx%2Ff5312a47e068e934c05bab75d917e48e_s_1_1.mp3?Expires=1720336842&OSSAccessKeyId=LTAI5tLsVBxJ8nhyy5gQVW3K&Signature=rxwlXrBi%2FIc33qq3KK5GWNPD6P4%3D","PreAudioUrl":"http://xxxx1.cn-shanghai.oss.xxxxx.com/POST_VIDEOSTREAM%2FPOST_VIDEOSTREAM_AUDIO%xxxxxxx%2Ff5312a47e068e934c05bab75d917e48e_s_1_1_pre.mp3?Expires=1720336842&OSSAccessKeyId=LTAI5tLsVBxJ8nhyy5gQVW3K&Signature=EkwixrtFuSE3ciqiDMNMcYD%2BBIk%3D","RiskDescription":"广告:联系方式:联系方式","RiskLabel1":"ad","RiskLabel2":"lianxifangshi","RiskLabel3":"lianxifangshi","VadStatus":1,"RiskDetail":{"RiskSource":1001,"AudioText":"加个好友吧 qq12345","MatchedLists":null},"RiskInfoList":[{"RiskLevel":"REJECT","RiskDescription":"广告:联系方式:联系方式","RiskLabel1":"ad","RiskLabel2":"lianxifangshi","RiskLabel3":"lianxifangshi","RiskDetail":{"RiskSource":1001,"AudioText":"加个好友吧 qq12345","MatchedLists":null}},{"RiskLevel":"REJECT","RiskDescription":"广告:联系方式:联系方式","RiskLabel1":"ad","RiskLabel2":"lianxifangshi","RiskLabel3":"lianxifangshi","RiskDetail":{"RiskSource":1001,"AudioText":"加个好友吧 qq12345","MatchedLists":null}}],"BusinessInfoList":[{"ConfidenceLevel":2,"Probability":0.9980469,"BusinessDescription":"语种:普通话:普通话","BusinessLabel1":"language","BusinessLabel2":"Chinese","BusinessLabel3":"Chinese"}]},"AuxInfo":{"RoomId":"room_1","ProcessBeginTime":1717744842377,"ProcessFinishTime":1717744842655,"StreamId":"stream_1"}}'''
MOD_VIDEO_IMG_RESULT = r'''{"Event":"censor_video_v2_img_result","AppId":1,"Timestamp":1724743250,"Nonce":"7407715855877898783","Signature":null,"Code":0,"Message":"成功","TaskId":"f5312a47e068e934c05bab75d917e48e","ResultTaskId":"f5312a47e068e934c05bab75d917e48e_s_1_1","Detail":{"RiskLevel":"REJECT","ImgUrl":"http://xxxx.cn-shanghai.oss.xxxxx.com/POST_VIDEOSTREAM%2FPOST_VIDEOSTREAM_IMG%xxxxxx%2Ff5312a47e068e934c05bab75d917e48e_vs25_1717744842578756407.jpg?Expires=1720336842&OSSAccessKeyId=LTAI5tLsVBxJ8nhyy5gQVW3K&Signature=eeXh7DUiKlgrCOUTQjU%2B0y8FMrg%3D","RiskDescription":"广告:联系方式:联系方式","RiskLabel1":"ad","RiskLabel2":"lianxifangshi","RiskLabel3":"lianxifangshi","RiskDetail":{"RiskSource":1001,"FaceInfoList":null,"OcrInfo":{"Text":"","MatchedLists":null}},"RiskInfoList":[{"RiskLevel":"REJECT","Probability":0.8550949,"RiskDescription":"广告:联系方式:联系方式","RiskLabel1":"ad","RiskLabel2":"lianxifangshi","RiskLabel3":"lianxifangshi","RiskDetail":{"RiskSource":1002,"FaceInfoList":[{"Name":"xxx","Id":"7dbf511b8de523c8d93873944c2b9bf8","FaceRatio":0.006099537,"Probability":0.7561441,"Location":[487,219,538,281]}],"OcrInfo":{"Text":"加个好友吧 qq12345","MatchedLists":null}}}],"BusinessInfoList":[{"Probability":0.9974654,"ConfidenceLevel":2,"BusinessDescription":"人脸:人脸类型:真人","BusinessLabel1":"face","BusinessLabel2":"renlianleixing","BusinessLabel3":"zhenren","BusinessDetail":{"FaceInfoList":[{"Name":"xxx","Id":"7dbf511b8de523c8d93873944c2b9bf8","FaceRatio":0.006099537,"Probability":0.7561441,"Location":[487,219,538,281]}]}}]},"AuxInfo":{"RoomId":"room_1","ImgTime":"2024-06-07 15:20:42.586","StreamId":"stream_1"}}'''

# The documented members of Detail and AuxInfo, in table order, each with
# what it is when absent: "" for text (URL-decoded as top-level strings
# are), null for a number or an object, [] for a list of objects.
MOD_DETAIL = [("RiskLevel", ""), ("AudioText", ""), ("Content", ""), ("ImgUrl", ""), ("AudioUrl", ""), ("PreAudioUrl", ""),
              ("RiskDescription", ""), ("RiskLabel1", ""), ("RiskLabel2", ""), ("RiskLabel3", ""),
              ("VadStatus", None), ("RiskDetail", None), ("RiskInfoList", []), ("BusinessInfoList", [])]
MOD_AUX = [("RoomId", ""), ("UserId", ""), ("StreamId", ""), ("ProcessBeginTime", None), ("ProcessFinishTime", None), ("ImgTime", "")]


def documented_first(obj, members):
    # An object as written: its documented members in table order (text
    # URL-decoded; RiskDetail's and the lists' members, which the table
    # does not type, as received); then the members the table does not
    # list, as received, in body order.
    out = {}
    for name, absent in members:
        value = obj.get(name, absent)
        out[name] = form_decoded(value) if absent == "" else value
    names = [name for name, _ in members]
    out.update((k, v) for k, v in obj.items() if k not in names)
    return out


def moderation_result(text, page, repairs):
    body = list(json.loads(text).items())
    fields = dict(body)
    return dict(
        product="rtc", event=fields["Event"],
        note="ZEGO's example (" + RTC_MODERATION_DOCS + page + ".mdx, whose stored copy is the Chinese text) with a real signature (the example's is a placeholder for an unknown secret); repaired: " + repairs + " Detail's AudioUrl, PreAudioUrl and ImgUrl hold valid %XX escapes, so they are URL-decoded once (form rules: %2F is /, %2B is +, %3D is =; an invalid %xx... is kept). The members of RiskDetail and of the RiskInfoList and BusinessInfoList objects are not typed by the table: kept as received.",
        body=body,
        expected_fields=[("Code", fields["Code"]), ("Message", fields["Message"]), ("TaskId", fields["TaskId"]), ("ResultTaskId", fields["ResultTaskId"]),
                         ("Detail", documented_first(fields["Detail"], MOD_DETAIL)), ("AuxInfo", documented_first(fields["AuxInfo"], MOD_AUX))],
        key=[fields["TaskId"], fields["ResultTaskId"]],
    )


EVENTS.append(moderation_result(MOD_AUDIO_RESULT, "audio", "the // comment lines, the trailing comma after RiskInfoList's second element and the one after AuxInfo (invalid JSON) removed."))
EVENTS.append(moderation_result(MOD_VIDEO_AUDIO_RESULT, "video", "the // comment lines (invalid JSON) removed."))
EVENTS.append(moderation_result(MOD_VIDEO_IMG_RESULT, "video", "the // comment lines (invalid JSON) removed."))


def moderation_status(event, page, shapes):
    return dict(
        product="rtc", event=event,
        note="ZEGO's example (" + RTC_MODERATION_DOCS + page + ".mdx, whose stored copy is the Chinese text) with a real signature; repaired: the // comment lines (invalid JSON) removed. The dedupe key adds the timestamp as received (keyTimestamp).",
        body=[("Event", event), ("AppId", 1), ("Timestamp", 1724743250), ("Nonce", "7407715855877898783"), ("Signature", None),
              ("Code", 0), ("Message", "success"), ("TaskId", "384a8a77aeb352d3ec8144ab4640cc52"), ("Status", 0),
              ("AuxInfo", {"RoomId": "room_1", "CensorStreamTime": 31})],
        expected_fields=[("Code", 0), ("Message", "success"), ("TaskId", "384a8a77aeb352d3ec8144ab4640cc52"), ("Status", 0),
                         ("AuxInfo", {"RoomId": "room_1", "CensorStreamTime": 31})],
        key=["384a8a77aeb352d3ec8144ab4640cc52", "0", "1724743250"],
        shapes=shapes,
    )


EVENTS.append(moderation_status("censor_audio_v2_status", "audio", ["json", "json_url_encoded_values", "form"]))
EVENTS.append(moderation_status("censor_video_v2_audio_status", "video", ["json", "form"]))
EVENTS.append(moderation_status("censor_video_v2_img_status", "video", ["json"]))

# ------------------------------------------------------ Cloud Recording ----
# One example only (event_type 1): app_id 1234567890 (a number), nonce
# "100480", timestamp "1637753949" (a string, seconds), task_id
# "YZ4joOE4IwmFAAAT", room_id "6677". The other event types are built from
# it with their documented detail members. Dedupe key: task_id, sequence.

REC_DOCS = "extended_services/cloud_recording/en/server/recording-status-callback.mdx"
REC_TASK = "YZ4joOE4IwmFAAAT"
REC_FILE = "YZ4joOE4IwmFAAAT_6677_800221_800221_VA_20211124113602084.mp4"
REC_FILE_INFO = {"begin_timestamp": 1637753762084, "duration": 170039, "file_id": REC_FILE, "file_size": 25349026, "file_url": "file_url",
                 "media_track_type": 3, "output_file_format": "mp4", "resolution_height": 720, "resolution_width": 1280, "status": 3,
                 "stream_id": "800221", "user_id": "800221", "user_name": "play_800221", "video_id": ""}

EVENTS.append(dict(
    product="cloud_recording", event="upload_status",
    note="ZEGO's example (" + REC_DOCS + "; the Chinese end-callback.mdx has the same bytes) with a real signature (the example's \"12345678987654321\" is a placeholder). Kept: file_url the placeholder \"file_url\" (a text rule). file_info's members are written in table order; custom_begin_timestamp (English table only) is absent (null).",
    body=[("app_id", 1234567890), ("detail", {"file_info": [REC_FILE_INFO], "upload_status": 1}), ("event_type", 1), ("message", ""),
          ("nonce", "100480"), ("room_id", "6677"), ("sequence", 1), ("signature", None), ("task_id", REC_TASK), ("timestamp", "1637753949")],
    expected_fields=[("task_id", REC_TASK), ("room_id", "6677"), ("message", ""), ("sequence", 1),
                     ("detail", {"upload_status": 1, "upload_status_name": "all_uploaded",
                                 "file_info": [{"user_id": "800221", "user_name": "play_800221", "stream_id": "800221", "file_id": REC_FILE,
                                                "video_id": "", "file_url": "file_url", "output_file_format": "mp4", "file_size": 25349026,
                                                "duration": 170039, "resolution_width": 1280, "resolution_height": 720, "media_track_type": 3,
                                                "media_track_type_name": "audio_video", "begin_timestamp": 1637753762084,
                                                "custom_begin_timestamp": None, "status": 3, "status_name": "uploaded"}]})],
    key=[REC_TASK, "1"],
    shapes=["json", "json_url_encoded_values", "form"],
))


ABSENT = object()


def recording(event, code, note, detail, expected_detail, sequence=2, timestamp="1637753949", message="", shapes=("json",)):
    # A body built from the event_type 1 example: its envelope, task and
    # room, this event's detail (left out when ABSENT; None is JSON null).
    body = [("app_id", 1234567890)]
    if detail is not ABSENT:
        body.append(("detail", detail))
    body += [("event_type", code), ("message", message), ("nonce", "100480"), ("room_id", "6677")]
    if sequence is not None:
        body.append(("sequence", sequence))
    body += [("signature", None), ("task_id", REC_TASK), ("timestamp", timestamp)]
    return dict(
        product="cloud_recording", event=event,
        note="No example on ZEGO's page (" + REC_DOCS + ") for event_type " + str(code) + ": built from the event_type 1 example's envelope, task_id and room_id with a real signature; " + note,
        body=body,
        expected_fields=[("task_id", REC_TASK), ("room_id", "6677"), ("message", message), ("sequence", sequence), ("detail", expected_detail)],
        key=[REC_TASK, str(sequence) if sequence is not None else timestamp],
        shapes=list(shapes),
    )


EVENTS.append(recording("abnormal_end", 2, "detail is the page's quit_reason, 3 (idle past MaxIdleTime).",
                        {"quit_reason": 3}, {"quit_reason": 3, "quit_reason_name": "idle_timeout"}, sequence=2, shapes=("json", "form")))
EVENTS.append(recording("image_download_failed", 3, "detail is the page's image_type (2, the watermark) and image_url.",
                        {"image_type": 2, "image_url": "https://example.com/watermark.png"},
                        {"image_type": 2, "image_type_name": "watermark", "image_url": "https://example.com/watermark.png"},
                        sequence=3, shapes=("json", "json_url_encoded_values")))
EVENTS.append(recording("no_streams", 4, "the page says detail is \"Empty\": sent as {} (an object with no documented members, written {}); sequence 0, the first (\"starts from 0\"), is a key part \"0\".",
                        {}, {}, sequence=0))
EVENTS.append(recording("completed", 5, "the page says detail is \"Empty\": sent as {}.",
                        {}, {}, sequence=5))
EVENTS.append(recording("stream_not_found", 6, "detail is the page's stream_id; sequence is left out to pin its orTimestamp rule (null in the document, the timestamp as received in the key).",
                        {"stream_id": "800221"}, {"stream_id": "800221"}, sequence=None, shapes=("json", "form")))
EVENTS.append(recording("uploading", 7, "the page says detail is \"Empty\": left out here (absent: null).",
                        ABSENT, None, sequence=6))
EVENTS.append(recording("m3u8_slice", 102, "detail is the page's stream_id, file_id, file_url and media_track_type; the timestamp is sent as 13 digits, \"1637753949123\", to pin the unit read by magnitude (ms: timestamp in seconds, sent_at with .123).",
                        {"stream_id": "800221", "file_id": "YZ4joOE4IwmFAAAT_6677_800221_800221_VA_20211124113602084.m3u8",
                         "file_url": "https://example.com/800221.m3u8", "media_track_type": 3},
                        {"stream_id": "800221", "file_id": "YZ4joOE4IwmFAAAT_6677_800221_800221_VA_20211124113602084.m3u8",
                         "file_url": "https://example.com/800221.m3u8", "media_track_type": 3, "media_track_type_name": "audio_video"},
                        sequence=7, timestamp="1637753949123"))
EVENTS.append(recording("paused", 201, "the page says detail is \"Empty\": sent as {}.",
                        {}, {}, sequence=8))
EVENTS.append(recording("resumed", 202, "the page says detail is \"Empty\": sent as JSON null, which counts as absent (null).",
                        None, None, sequence=9))

# --------------------------------------------------------- Cloud Player ----
# Two examples: player creation (AppID 123456789 a number, Nonce
# "abcdd22113", Timestamp "1681221510", EventTime 1681221510034 a number,
# PlayerName outside the table) and upload task creation (AppID and
# EventTime strings, StreamUrl and Title outside the table). Dedupe key:
# RoomId, PlayerId, UploadTaskId, EventTime.

PLAYER_DOCS = "extended_services/cloud_player/en/server/Callback/callback.mdx"


def player(event, code, note, detail, expected_detail, event_time=1681221510034, shapes=("json",)):
    body = [("AppID", 123456789), ("RoomId", "room_12"), ("PlayerId", "XXXXXX"), ("PlayerName", "XXXXXX"), ("EventType", code),
            ("Nonce", "abcdd22113"), ("Timestamp", "1681221510"), ("Signature", None), ("EventTime", event_time), ("Detail", detail)]
    return dict(
        product="cloud_player", event=event, note=note, body=body,
        expected_fields=[("RoomId", "room_12"), ("PlayerId", "XXXXXX"), ("UploadTaskId", ""), ("EventTime", event_time), ("Detail", expected_detail)],
        extra=[("PlayerName", "XXXXXX")],
        key=["room_12", "XXXXXX", "", str(event_time)],
        shapes=list(shapes),
    )


BUILT_PLAYER = "No example on ZEGO's page (" + PLAYER_DOCS + ") for EventType %d: built from the player creation example (a real signature, PlayerName in extra) with its documented Detail: "

EVENTS.append(player("player_created", 1,
                     "ZEGO's player creation example (" + PLAYER_DOCS + ") with a real signature (the example's \"XXXXXXX\" is a placeholder); PlayerName is not in the table (extra); UploadTaskId is absent (\"\", an empty key part).",
                     {"CreateTime": 1681221508, "PlayTime": 1681221508, "MaxIdleTime": 30, "StreamUrl": "https://xxx.com/video/test.mp4"},
                     {"CreateTime": 1681221508, "PlayTime": 1681221508, "MaxIdleTime": 30, "StreamUrl": "https://xxx.com/video/test.mp4"},
                     shapes=("json", "json_url_encoded_values", "form")))
EVENTS.append(player("player_destroyed", 2, BUILT_PLAYER % 2 + "PlayTime and Reason 3 (playback ended).",
                     {"PlayTime": 1681221508, "Reason": 3}, {"PlayTime": 1681221508, "Reason": 3, "Reason_name": "playback_ended"},
                     event_time=1681221610034))
EVENTS.append(player("player_status", 3, BUILT_PLAYER % 3 + "Status 4 (playing) and PlayIndex 0.",
                     {"Status": 4, "PlayIndex": 0}, {"Status": 4, "Status_name": "playing", "PlayIndex": 0},
                     event_time=1681221511034, shapes=("json", "form")))
EVENTS.append(player("player_exception", 4, BUILT_PLAYER % 4 + "Code -7 (playback stuttering, a negative integer); PlayIndex is absent (null: only for Code 7).",
                     {"Code": -7}, {"Code": -7, "PlayIndex": None}, event_time=1681221512034))


def upload(event, code, note, detail, expected_detail, event_time="1737451074593", shapes=("json",)):
    body = [("AppID", "123456789"), ("Detail", detail)]
    if event_time is not None:
        body.append(("EventTime", event_time))
    body += [("EventType", code), ("Nonce", "947227"), ("Signature", None), ("StreamUrl", "https://your_streamurl"), ("Timestamp", "1737451074"),
             ("Title", "720.mp4"), ("UploadTaskId", "678f663727b2d80007000001")]
    return dict(
        product="cloud_player", event=event, note=note, body=body,
        expected_fields=[("RoomId", ""), ("PlayerId", ""), ("UploadTaskId", "678f663727b2d80007000001"),
                         ("EventTime", int(event_time) if event_time is not None else None), ("Detail", expected_detail)],
        extra=[("StreamUrl", "https://your_streamurl"), ("Title", "720.mp4")],
        key=["", "", "678f663727b2d80007000001", event_time if event_time is not None else "1737451074"],
        shapes=list(shapes),
    )


BUILT_UPLOAD = "No example on ZEGO's page (" + PLAYER_DOCS + ") for EventType %d: built from the upload task creation example (AppID and EventTime strings, StreamUrl and Title in extra, a real signature) with its documented Detail: "

EVENTS.append(upload("file_uploaded", 10001,
                     "ZEGO's upload task creation example (" + PLAYER_DOCS + ") with a real signature (the example's \"xxxxx\" is a placeholder); AppID \"123456789\" and EventTime \"1737451074593\" are strings (app_id and EventTime written as numbers); StreamUrl and Title are not in the table (extra, in body order); RoomId and PlayerId are absent (\"\"); Detail {} (\"Empty\").",
                     {}, {}, shapes=("json", "json_url_encoded_values", "form")))
EVENTS.append(upload("upload_failed", 10002, BUILT_UPLOAD % 10002 + "Reason 1 (download failed).",
                     {"Reason": 1}, {"Reason": 1, "Reason_name": "download_failed"}, event_time="1737451075593", shapes=("json", "form")))
EVENTS.append(upload("upload_status", 10003, BUILT_UPLOAD % 10003 + "Status 2 (uploading).",
                     {"Status": 2}, {"Status": 2, "Status_name": "uploading"}, event_time="1737451076593"))
EVENTS.append(upload("cancel_failed", 10004, BUILT_UPLOAD % 10004 + "Reason 2 (already uploaded).",
                     {"Reason": 2}, {"Reason": 2, "Reason_name": "uploaded"}, event_time="1737451077593"))
EVENTS.append(upload("upload_exception", 10005, BUILT_UPLOAD % 10005 + "Code 1 (unknown exception); EventTime is left out to pin its orTimestamp rule (null; the timestamp as received in the key).",
                     {"Code": 1}, {"Code": 1}, event_time=None))
EVENTS.append(upload("file_expired", 10006, BUILT_UPLOAD % 10006 + "{} (\"Empty\").",
                     {}, {}, event_time="1737451079593"))

# -------------------------------------------------------- Digital Human ----
# Every example: AppId 123456789, TaskId "XXXXXX", Nonce "abcdd22113",
# Timestamp "1681221510" (a string), EventTime 1681221510034. Dedupe key:
# TaskId, EventTime, Detail's DriveId and Status.

DH_DOCS = "core_products/digital-human/en/server/streaming-apis/receiving-callback.mdx"


def digital_human(event, code, detail, timestamp="1681221510"):
    return [("AppId", 123456789), ("TaskId", "XXXXXX"), ("EventType", code), ("Nonce", "abcdd22113"), ("Timestamp", timestamp),
            ("Signature", None), ("EventTime", 1681221510034), ("Detail", detail)]


EVENTS.append(dict(
    product="digital_human", event="stream_task_status",
    note="ZEGO's EventType 3 example (" + DH_DOCS + ") with a real signature (the example's \"XXXXXXX\" is a placeholder); FailReason is absent (\"\": only for Status 2).",
    body=digital_human("stream_task_status", 3, {"Status": 5, "RoomId": "XXXXXXXXXXXX", "StreamId": "XXXXXXXXXXXX"}),
    expected_fields=[("TaskId", "XXXXXX"), ("EventTime", 1681221510034),
                     ("Detail", {"Status": 5, "Status_name": "stopped", "RoomId": "XXXXXXXXXXXX", "StreamId": "XXXXXXXXXXXX", "FailReason": ""})],
    key=["XXXXXX", "1681221510034", "5"],
    shapes=["json", "json_url_encoded_values", "form"],
))

EVENTS.append(dict(
    product="digital_human", event="stream_task_status", variant="ms_timestamp",
    note="ZEGO's EventType 3 example (" + DH_DOCS + ") with a real signature and its Timestamp sent as the 13 digits \"1681221510034\" (built: the table said seconds, then milliseconds, while every example sends ten digits; 13 digits are read as ms: timestamp in seconds, sent_at with .034).",
    body=digital_human("stream_task_status", 3, {"Status": 5, "RoomId": "XXXXXXXXXXXX", "StreamId": "XXXXXXXXXXXX"}, timestamp="1681221510034"),
    expected_fields=[("TaskId", "XXXXXX"), ("EventTime", 1681221510034),
                     ("Detail", {"Status": 5, "Status_name": "stopped", "RoomId": "XXXXXXXXXXXX", "StreamId": "XXXXXXXXXXXX", "FailReason": ""})],
    key=["XXXXXX", "1681221510034", "5"],
))

EVENTS.append(dict(
    product="digital_human", event="drive_task_status",
    note="ZEGO's EventType 4 example (" + DH_DOCS + ", also its \"Stop Speaking\" example) with a real signature: Status 4, drive ended.",
    body=digital_human("drive_task_status", 4, {"DriveId": "XXXXXXXXXXXX", "Status": 4}),
    expected_fields=[("TaskId", "XXXXXX"), ("EventTime", 1681221510034), ("Detail", {"DriveId": "XXXXXXXXXXXX", "Status": 4, "Status_name": "ended"})],
    key=["XXXXXX", "1681221510034", "XXXXXXXXXXXX", "4"],
    shapes=["json", "json_url_encoded_values", "form"],
))

EVENTS.append(dict(
    product="digital_human", event="drive_task_status", variant="start_speaking",
    note="ZEGO's \"Start Speaking\" example (" + DH_DOCS + ", English page only) with a real signature: Status 2, driving; its key differs from the Stop Speaking one by the Status alone.",
    body=digital_human("drive_task_status", 4, {"DriveId": "XXXXXXXXXXXX", "Status": 2}),
    expected_fields=[("TaskId", "XXXXXX"), ("EventTime", 1681221510034), ("Detail", {"DriveId": "XXXXXXXXXXXX", "Status": 2, "Status_name": "driving"})],
    key=["XXXXXX", "1681221510034", "XXXXXXXXXXXX", "2"],
))

# ---------------------------------------------------------- Super Board ----

EVENTS.append(dict(
    product="super_board", event="cvt_finish",
    note="ZEGO's example (https://doc-zh.zego.im/super-board-server/file-callback, Chinese only) with a real signature (the example's is for an unknown secret); appid and timestamp are JSON numbers, as the page shows; data's members are written in table order (file_id, task_id, status).",
    body=[("appid", 123), ("data", {"file_id": "ZYV-AFTrF6qnfFGW", "status": 16, "task_id": "9Y74yTsVd7e825-N"}), ("event", "cvt_finish"),
          ("nonce", "6990248315071153368"), ("signature", None), ("timestamp", 1627544014)],
    expected_fields=[("data", {"file_id": "ZYV-AFTrF6qnfFGW", "task_id": "9Y74yTsVd7e825-N", "status": 16, "status_name": "done"})],
    key=["9Y74yTsVd7e825-N", "16"],
    shapes=["json", "json_url_encoded_values", "form"],
))

EVENTS.append(dict(
    product="super_board", event="cvt_finish", variant="failed",
    note="Built from ZEGO's cvt_finish example (https://doc-zh.zego.im/super-board-server/file-callback) with a real signature and data's status 32 (transcoding failed, a documented value); its key differs from the done one by the status alone.",
    body=[("appid", 123), ("data", {"file_id": "ZYV-AFTrF6qnfFGW", "status": 32, "task_id": "9Y74yTsVd7e825-N"}), ("event", "cvt_finish"),
          ("nonce", "6990248315071153368"), ("signature", None), ("timestamp", 1627544014)],
    expected_fields=[("data", {"file_id": "ZYV-AFTrF6qnfFGW", "task_id": "9Y74yTsVd7e825-N", "status": 32, "status_name": "failed"})],
    key=["9Y74yTsVd7e825-N", "32"],
))


def as_text(v):
    # A form carries a list or an object as its JSON text (and no null).
    assert v is not None
    if isinstance(v, (list, dict)):
        return json.dumps(v, separators=(",", ":"), ensure_ascii=False)
    return str(v)


def encode_value(v):
    # URL-encode string values as ZEGO documents, strings inside lists and
    # objects too (the rules URL-decode a JSON body's nested strings);
    # numbers stay numbers, member names stay as they are.
    if isinstance(v, str):
        return urllib.parse.quote(v, safe="")
    if isinstance(v, list):
        return [encode_value(x) for x in v]
    if isinstance(v, dict):
        return {k: encode_value(x) for k, x in v.items()}
    return v


def json_text(pairs):
    return "{" + ",".join(json.dumps(k) + ":" + json.dumps(v, separators=(",", ":"), ensure_ascii=False) for k, v in pairs) + "}"


SHAPE_NOTES = {
    "json": "",
    "json_url_encoded_values": " Shape: JSON with every string value URL-encoded, nested ones too; the document is the plain one's.",
    "form": " Shape: a form, numbers as digits and arrays/objects as their JSON text; the document is the plain one's.",
}


def main():
    cases = []
    for e in EVENTS:
        product = e["product"]
        names = EVENT_ENVELOPES.get((product, e["event"]), ENVELOPES[product])
        fields = dict(e["body"])
        app_key, event_key, ts_key, nonce_key, sig_key = names
        assert fields[event_key] == CODES.get(product, {}).get(e["event"], e["event"]), e["event"]
        # Every member of the body is the envelope's, the table's or extra's.
        listed = {k for k, _ in e["expected_fields"]} | {k for k, _ in e.get("extra", [])} | set(names)
        assert set(fields) <= listed, (e["event"], set(fields) - listed)
        ts, nonce = str(fields[ts_key]), str(fields[nonce_key])
        signature, sig_command = sha1sum(SECRET, ts, nonce)
        body = [(k, signature if k == sig_key else v) for k, v in e["body"]]
        app_id = int(fields[app_key])
        doc = envelope(product, e["event"], app_id, ts, nonce)
        doc.update(e["expected_fields"])
        doc["extra"] = dict(e.get("extra", []))
        # Every product but rtc leads its keys with its name.
        prefix = [] if product == "rtc" else [product]
        key, key_command = sha256key(prefix + [str(app_id), e["event"]] + e["key"])
        plain = json_text(body)
        bodies = {
            "json": lambda: ("application/json", plain),
            "json_url_encoded_values": lambda: ("application/json", json_text([(k, encode_value(v)) for k, v in body])),
            "form": lambda: ("application/x-www-form-urlencoded", urllib.parse.urlencode([(k, as_text(v)) for k, v in body])),
        }
        for shape in e.get("shapes", ["json"]):
            content_type, text = bodies[shape]()
            cases.append({
                "name": "_".join([product, e["event"]] + ([e["variant"]] if "variant" in e else []) + [shape]),
                "product": product,
                "event": e["event"],
                "note": e["note"] + SHAPE_NOTES[shape],
                "now": seconds(ts) + 10,
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
        "about": "Public test vectors for every event of the products other than rtc (zim, ai_agent, asr, cloud_recording, cloud_player, digital_human, super_board) and for rtc's service events (procedure, snapshot, transcode_*, censor_*; rtc's room and stream events are in events.json): ZEGO's examples (repairs in each note; events without an example built from their page, as each note says) as JSON, and per product a JSON body with URL-encoded string values and a form. Each case is verified on its product's route with the secret below, max_age 300 s, every event of its product allowed, at its own unix time 'now'. signature_command made the body's signature and idempotency_key_command the expected IdempotencyID (hex), both outside the code under test; expect.normalized is written by hand from the rules (see products_gen.py, which wrote this file). Key order in normalized is the contract's order.",
        "secret": SECRET,
        "max_age_seconds": MAX_AGE,
        "cases": cases,
    }
    with open("products.json", "w") as f:
        json.dump(out, f, indent=2, ensure_ascii=False)
        f.write("\n")


main()
