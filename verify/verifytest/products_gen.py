#!/usr/bin/env python3
"""Writes products.json: the public vectors for the products other than rtc
(ZIM, AI Agent, Cloud real-time ASR).

Nothing here imports or runs the Go code under test. Signatures come from
coreutils' sha1sum and dedupe keys from sha256sum (each case records the
command); the expected documents are written out below by hand from the
rules in verify/events.go, verify/eventparse.go and the tables of
verify/events_zim.go and verify/events_aiagent.go. Bodies are ZEGO's
examples from ZEGOCLOUD/docs_all (paths in each note), compacted, in the
page's member order, with a real signature; every repair is in the note.
Run from this directory: python3 products_gen.py
"""
import hashlib
import json
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
    "zim": ("appid", "event", "timestamp", "nonce", "signature"),
    "ai_agent": ("AppId", "Event", "Timestamp", "Nonce", "Signature"),
    "asr": ("AppId", "Event", "Timestamp", "Nonce", "Signature"),
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


def sent_at(ts):
    text = datetime.fromtimestamp(seconds(ts), timezone.utc).strftime("%Y-%m-%dT%H:%M:%S")
    if len(ts) == 13:
        return text + "." + ts[-3:] + "Z"
    return text + "Z"


def envelope(product, event, app_id, ts, nonce):
    return {"product": product, "event": event, "app_id": app_id, "timestamp": seconds(ts), "sent_at": sent_at(ts), "nonce": nonce}


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
    key=["857639062792568832"],
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
    key=["857639062792568832"],
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


def as_text(v):
    # A form carries a list or an object as its JSON text.
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
        names = ENVELOPES[product]
        fields = dict(e["body"])
        app_key, event_key, ts_key, nonce_key, sig_key = names
        assert fields[event_key] == e["event"]
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
        key, key_command = sha256key([str(app_id), e["event"]] + e["key"])
        plain = json_text(body)
        bodies = {
            "json": ("application/json", plain),
            "json_url_encoded_values": ("application/json", json_text([(k, encode_value(v)) for k, v in body])),
            "form": ("application/x-www-form-urlencoded", urllib.parse.urlencode([(k, as_text(v)) for k, v in body])),
        }
        for shape in e.get("shapes", ["json"]):
            content_type, text = bodies[shape]
            cases.append({
                "name": product + "_" + e["event"] + "_" + shape,
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
        "about": "Public test vectors for every event of the products other than rtc (zim, ai_agent, asr): ZEGO's examples (repairs in each note) as JSON, and per product a JSON body with URL-encoded string values and a form. Each case is verified on its product's route with the secret below, max_age 300 s, every event of its product allowed, at its own unix time 'now'. signature_command made the body's signature and idempotency_key_command the expected IdempotencyID (hex), both outside the code under test; expect.normalized is written by hand from the rules (see products_gen.py, which wrote this file). Key order in normalized is the contract's order.",
        "secret": SECRET,
        "max_age_seconds": MAX_AGE,
        "cases": cases,
    }
    with open("products.json", "w") as f:
        json.dump(out, f, indent=2, ensure_ascii=False)
        f.write("\n")


main()
