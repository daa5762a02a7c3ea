package verify

// RTC's room, stream and recording events, as data: one table of field
// rules (rules.go) per event, with ZEGO's field table and page address
// beside it. compose's rules are in compose.go; RTC's service callbacks
// are in events_rtcservices.go.

var closeTypeNames = []enumName{
	{0, "normal"}, {1, "heartbeat_timeout"}, {2, "relogin"}, {3, "kicked_out"},
	{4, "tcp_disconnected"}, {5, "room_cleared"}, {100, "deleted_by_server_api"},
}

var logoutReasonNames = []enumName{
	{0, "normal"}, {1, "heartbeat_timeout"}, {2, "network_disconnected"}, {3, "kicked_out"}, {4, "token_expired"},
}

var roomCloseReasonNames = []enumName{
	{0, "normal"}, {1, "last_user_heartbeat_timeout"}, {2, "last_user_disconnected"}, {3, "last_user_kicked_out"},
}

var userRoleNames = []enumName{{1, "host"}, {2, "audience"}, {4, "admin"}}

// rtcEvents holds every supported RTC event except compose, whose rules
// are the hand-tuned ones in compose.go.
var rtcEvents = []*eventSpec{
	// room_create — Room Created Callback.
	// https://www.zegocloud.com/docs/real-time-video-server/callback/room/created
	// (same text: .../real-time-voice-server/callback/room/created)
	//
	//	field            documented type       req  rule
	//	room_id          String                yes  id, 256 bytes
	//	room_session_id  UInt64 (JSON number)  yes  big-id digits (the example's 858012925204410400 exceeds 2^53)
	//	room_create_time String, milliseconds  no   uint <= 2^53-1
	//	id_name          String                no   text, 256 bytes (the creator's user ID)
	//
	// appid is documented as UInt32 and timestamp as Int64 (JSON numbers)
	// here, strings elsewhere: both accepted. Dedupe key: room_session_id,
	// new for every lifetime of a room (the page says so).
	{
		name: "room_create", meaning: "a room was created", doc: "https://www.zegocloud.com/docs/real-time-video-server/callback/room/created",
		fields: []fieldRule{
			{name: "room_id", kind: ruleID, required: true, max: maxIDBytes, role: roleRoomID},
			{name: "room_session_id", kind: ruleBigID, required: true, key: true},
			{name: "room_create_time", kind: ruleUint, max: maxExactInteger},
			{name: "id_name", kind: ruleText, max: maxIDBytes},
		},
		example: []Field{{"room_id", "rid_1242649"}, {"room_session_id", "858012925204410400"}, {"room_create_time", "1499676978027"}, {"id_name", "id123"}},
	},
	// room_close — Room Destroyed Callback.
	// https://www.zegocloud.com/docs/real-time-voice-server/callback/room/destroyed
	// (older edition: https://docs.zegocloud.com/article/15890, room_session_id "Int")
	//
	//	field            documented type       req  rule
	//	room_id          String                yes  id, 256 bytes
	//	room_session_id  UInt64 / Int          yes  big-id digits
	//	close_reason     UInt32 / Integer      no   enum 0 normal, 1 last user's heartbeat timed out,
	//	                                            2 last user went offline, 3 last user kicked out
	//	room_close_time  String, milliseconds  no   uint <= 2^53-1
	//
	// Dedupe key: room_session_id (a room lifetime ends once).
	{
		name: "room_close", meaning: "a room was destroyed", doc: "https://www.zegocloud.com/docs/real-time-voice-server/callback/room/destroyed",
		fields: []fieldRule{
			{name: "room_id", kind: ruleID, required: true, max: maxIDBytes, role: roleRoomID},
			{name: "room_session_id", kind: ruleBigID, required: true, key: true},
			{name: "close_reason", kind: ruleEnum, names: roomCloseReasonNames},
			{name: "room_close_time", kind: ruleUint, max: maxExactInteger},
		},
		example: []Field{{"room_id", "rid_1242649"}, {"room_session_id", "858012925204410400"}, {"close_reason", "1"}, {"room_close_time", "1499676989909"}},
	},
	// room_login — User Logged in Callback.
	// https://www.zegocloud.com/docs/real-time-video-server/callback/room/logged-in
	// (older edition: https://docs.zegocloud.com/article/14133: login_time and
	// timestamp "Int", JSON numbers in its example)
	//
	//	field            documented type       req  rule
	//	room_id          String                yes  id, 256 bytes
	//	room_name        String                no   text, 1024 bytes
	//	room_seq         String                yes  big-id digits (= room_create's room_session_id)
	//	user_account     String                yes  id, 256 bytes
	//	user_nickname    String                no   text, 1024 bytes
	//	session_id       String                yes  id, 256 bytes ("0" in the example: not unique alone)
	//	login_time       String / Int, ms      no   uint <= 2^53-1
	//	user_role        String                no   enum 1 host, 2 audience, 4 admin
	//	auth_level       String                no   uint <= 2^32-1 (values not in the stored page)
	//	relogin          String                no   uint <= 2^32-1 (values not in the stored page)
	//	user_update_seq  String                no   big-id digits
	//
	// Dedupe key: room_seq, user_account, session_id, login_time. The page
	// gives no login ID, and its example's session_id is "0", so the login's
	// millisecond time tells two logins of one user in one room apart.
	{
		name: "room_login", meaning: "a user logged in to a room", doc: "https://www.zegocloud.com/docs/real-time-video-server/callback/room/logged-in",
		fields: []fieldRule{
			{name: "room_id", kind: ruleID, required: true, max: maxIDBytes, role: roleRoomID},
			{name: "room_name", kind: ruleText, max: maxTextBytes},
			{name: "room_seq", kind: ruleBigID, required: true, key: true},
			{name: "user_account", kind: ruleID, required: true, max: maxIDBytes, key: true},
			{name: "user_nickname", kind: ruleText, max: maxTextBytes},
			{name: "session_id", kind: ruleID, required: true, max: maxIDBytes, key: true},
			{name: "login_time", kind: ruleUint, max: maxExactInteger, key: true},
			{name: "user_role", kind: ruleEnum, names: userRoleNames},
			{name: "auth_level", kind: ruleUint, max: 1<<32 - 1},
			{name: "relogin", kind: ruleUint, max: 1<<32 - 1},
			{name: "user_update_seq", kind: ruleBigID},
		},
		example: []Field{{"room_id", "rid_1242649"}, {"room_name", "room#123"}, {"room_seq", "6085791336856668982"}, {"user_account", "888120154"},
			{"user_nickname", "888120154"}, {"session_id", "0"}, {"login_time", "1499676978027"}},
	},
	// room_logout — User Logged out Callback.
	// https://www.zegocloud.com/docs/real-time-video-server/callback/room/logged-out
	// (older edition: https://docs.zegocloud.com/article/14134: reason,
	// logout_time and timestamp "Int", user_role a JSON number in its example)
	//
	//	field            documented type       req  rule
	//	room_id          String                yes  id, 256 bytes
	//	room_seq         String                yes  big-id digits
	//	user_account     String                yes  id, 256 bytes
	//	user_nickname    String                no   text, 1024 bytes
	//	session_id       String                yes  id, 256 bytes
	//	login_time       String, ms            no   uint <= 2^53-1 (not in the older edition)
	//	logout_time      String / Int, ms      no   uint <= 2^53-1
	//	reason           String / Int          no   enum 0 normal, 1 heartbeat timeout, 2 network
	//	                                            disconnected, 3 kicked out, 4 token expired
	//	user_role        String / Int          no   enum 1 host, 2 audience, 4 admin
	//	user_update_seq  String                no   big-id digits
	//
	// Dedupe key: room_seq, user_account, session_id, logout_time, as for a
	// login.
	{
		name: "room_logout", meaning: "a user logged out of a room", doc: "https://www.zegocloud.com/docs/real-time-video-server/callback/room/logged-out",
		fields: []fieldRule{
			{name: "room_id", kind: ruleID, required: true, max: maxIDBytes, role: roleRoomID},
			{name: "room_seq", kind: ruleBigID, required: true, key: true},
			{name: "user_account", kind: ruleID, required: true, max: maxIDBytes, key: true},
			{name: "user_nickname", kind: ruleText, max: maxTextBytes},
			{name: "session_id", kind: ruleID, required: true, max: maxIDBytes, key: true},
			{name: "login_time", kind: ruleUint, max: maxExactInteger},
			{name: "logout_time", kind: ruleUint, max: maxExactInteger, key: true},
			{name: "reason", kind: ruleEnum, names: logoutReasonNames},
			{name: "user_role", kind: ruleEnum, names: userRoleNames},
			{name: "user_update_seq", kind: ruleBigID},
		},
		example: []Field{{"room_id", "rid_1242649"}, {"room_seq", "6085791336856668982"}, {"user_account", "888120154"}, {"user_nickname", "888120154"},
			{"session_id", "0"}, {"logout_time", "1499676978027"}, {"reason", "0"}, {"user_role", "1"}},
	},
	// stream_create — Stream Created Callback.
	// https://www.zegocloud.com/docs/live-streaming-server/callback/stream/created
	// (same text for video and voice calls; older edition:
	// https://docs.zegocloud.com/article/9806, which names the room and user
	// only channel_id, publish_id and publish_name; Chinese edition with
	// stream_attr and recreate: https://doc-zh.zego.im/article/19676)
	//
	//	field            documented type       req  rule
	//	room_id          String                no   id, 256 bytes (= channel_id; 127 bytes documented)
	//	room_session_id  String                no   big-id digits
	//	user_id          String                no   id, 256 bytes (= publish_id)
	//	user_name        String                no   text, 1024 bytes (= publish_name)
	//	channel_id       String                no   id, 256 bytes
	//	stream_id        String                no   id, 256 bytes (= stream_alias)
	//	stream_sid       String                yes  id, 256 bytes: the stream's server-side unique ID
	//	title            String                no   text, 1024 bytes
	//	stream_alias     String                no   id, 256 bytes
	//	stream_attr      String (JSON text)    no   json-text, 4096 bytes, e.g. "{\"cid\":0}"
	//	stream_seq       String                no   big-id digits, +1 per change of the stream list
	//	create_time      String, seconds       no   uint <= 2^53-1
	//	create_time_ms   String, milliseconds  no   uint <= 2^53-1
	//	extra_info       String                no   text, 1024 bytes
	//	recreate         String                no   uint <= 2^32-1 (whether the stream was re-published)
	//	publish_id       String                no   id, 256 bytes
	//	publish_name     String                no   text, 1024 bytes
	//	rtmp_url         Array                 no   array of strings, 1024 bytes each
	//	hls_url          Array                 no   array of strings, 1024 bytes each
	//	hdl_url          Array                 no   array of strings, 1024 bytes each
	//	pic_url          Array                 no   array of strings, 1024 bytes each (255 documented)
	//
	// Dedupe key: stream_sid and stream_seq. stream_sid is ZEGO's unique ID
	// of the stream; stream_seq, when sent, changes with every create and
	// close, so a re-publish is a new occurrence even if the sid repeats.
	{
		name: "stream_create", meaning: "a stream started publishing", doc: "https://www.zegocloud.com/docs/live-streaming-server/callback/stream/created",
		fields: []fieldRule{
			{name: "room_id", kind: ruleID, max: maxIDBytes, role: roleRoomID},
			{name: "room_session_id", kind: ruleBigID},
			{name: "user_id", kind: ruleID, max: maxIDBytes},
			{name: "user_name", kind: ruleText, max: maxTextBytes},
			{name: "channel_id", kind: ruleID, max: maxIDBytes, role: roleRoomID},
			{name: "stream_id", kind: ruleID, max: maxIDBytes, role: roleStreamID},
			{name: "stream_sid", kind: ruleID, required: true, max: maxIDBytes, key: true},
			{name: "title", kind: ruleText, max: maxTextBytes},
			{name: "stream_alias", kind: ruleID, max: maxIDBytes, role: roleStreamID},
			{name: "stream_attr", kind: ruleJSONText, max: maxJSONBytes},
			{name: "stream_seq", kind: ruleBigID, key: true},
			{name: "create_time", kind: ruleUint, max: maxExactInteger},
			{name: "create_time_ms", kind: ruleUint, max: maxExactInteger},
			{name: "extra_info", kind: ruleText, max: maxTextBytes},
			{name: "recreate", kind: ruleUint, max: 1<<32 - 1},
			{name: "publish_id", kind: ruleID, max: maxIDBytes},
			{name: "publish_name", kind: ruleText, max: maxTextBytes},
			{name: "rtmp_url", kind: ruleStrings, max: maxTextBytes},
			{name: "hls_url", kind: ruleStrings, max: maxTextBytes},
			{name: "hdl_url", kind: ruleStrings, max: maxTextBytes},
			{name: "pic_url", kind: ruleStrings, max: maxTextBytes},
		},
		example: []Field{{"room_id", "0xb-0x1"}, {"room_session_id", "6085791336856668982"}, {"user_id", "888120154"}, {"user_name", "888120154"},
			{"channel_id", "0xb-0x1"}, {"stream_id", "aaaa"}, {"stream_sid", "s-115205137699740000000000104"}, {"title", "title"},
			{"stream_alias", "aaaa"}, {"stream_attr", `{"cid":0}`}, {"stream_seq", "1"}, {"create_time", "1481597358"}, {"create_time_ms", "1481597358012"},
			{"rtmp_url", `["rtmp://rtmp.example.com/live/aaaa"]`}, {"hls_url", `["https://hls.example.com/live/aaaa/playlist.m3u8"]`},
			{"hdl_url", `["https://hdl.example.com/live/aaaa.flv"]`}, {"pic_url", `["https://pic.example.com/live/aaaa.jpg"]`}},
	},
	// stream_close — Stream Destroyed Callback.
	// https://www.zegocloud.com/docs/real-time-video-server/callback/stream/destroyed
	// (older edition: https://docs.zegocloud.com/article/9807, without
	// room_session_id and type 100)
	//
	//	field            documented type       req  rule
	//	room_id          String                no   id, 256 bytes (= channel_id)
	//	room_session_id  String                no   big-id digits
	//	user_id          String                no   id, 256 bytes (= publish_id)
	//	user_name        String                no   text, 1024 bytes (= publish_name)
	//	channel_id       String                no   id, 256 bytes
	//	type             String (a number)     yes  enum 0 normal, 1 heartbeat timeout, 2 same user
	//	                                            logged in again, 3 kicked out, 4 TCP connection lost,
	//	                                            5 room cleared, 100 deleted by the server API
	//	stream_alias     String                no   id, 256 bytes
	//	stream_id        String                no   id, 256 bytes
	//	stream_sid       String                yes  id, 256 bytes
	//	stream_seq       String                no   big-id digits
	//	publish_id       String                no   id, 256 bytes
	//	publish_name     String                no   text, 1024 bytes
	//
	// Dedupe key: stream_sid and stream_seq, as for stream_create.
	{
		name: "stream_close", meaning: "a stream stopped publishing", doc: "https://www.zegocloud.com/docs/real-time-video-server/callback/stream/destroyed",
		fields: []fieldRule{
			{name: "room_id", kind: ruleID, max: maxIDBytes, role: roleRoomID},
			{name: "room_session_id", kind: ruleBigID},
			{name: "user_id", kind: ruleID, max: maxIDBytes},
			{name: "user_name", kind: ruleText, max: maxTextBytes},
			{name: "channel_id", kind: ruleID, max: maxIDBytes, role: roleRoomID},
			{name: "type", kind: ruleEnum, required: true, names: closeTypeNames},
			{name: "stream_alias", kind: ruleID, max: maxIDBytes, role: roleStreamID},
			{name: "stream_id", kind: ruleID, max: maxIDBytes, role: roleStreamID},
			{name: "stream_sid", kind: ruleID, required: true, max: maxIDBytes, key: true},
			{name: "stream_seq", kind: ruleBigID, key: true},
			{name: "publish_id", kind: ruleID, max: maxIDBytes},
			{name: "publish_name", kind: ruleText, max: maxTextBytes},
		},
		example: []Field{{"room_id", "0xb-0x1"}, {"room_session_id", "6085791336856668982"}, {"user_id", "888120154"}, {"user_name", "888120154"},
			{"channel_id", "0xb-0x1"}, {"type", "0"}, {"stream_alias", "aaaa"}, {"stream_id", "aaaa"},
			{"stream_sid", "s-115205137699740000000000104"}, {"stream_seq", "2"}},
	},
	// record — Recording File Generated Callback (CDN recording completed).
	// https://www.zegocloud.com/docs/real-time-video-server/callback/cdn/cdn-record-completed
	// (older edition: https://docs.zegocloud.com/article/9808)
	//
	//	field            documented type       req  rule
	//	stream_alias     String                yes  id, 256 bytes
	//	replay_url       String                yes  http(s) URL, 1024 bytes (the example's "replay_url" is a placeholder)
	//	begin_time       String, seconds       no   uint <= 2^53-1
	//	end_time         String, seconds       no   uint <= 2^53-1
	//	extra_params     String                no   json-text, 4096 bytes: per CDN vendor (Tencent TaskId,
	//	                                            FileID, Duration; Ws PersistentId, Duration; Huawei
	//	                                            Duration, ObsObject, FileSize); the example's is a placeholder
	//
	// Dedupe key: stream_alias, begin_time, end_time, replay_url. No field
	// names one recording across vendors (extra_params differs per vendor),
	// so the recording is keyed by what it is: two recordings of one stream
	// with the same start, end and URL are merged, which cannot happen for
	// two distinct files.
	{
		name: "record", meaning: "a CDN recording of a stream was completed", doc: "https://www.zegocloud.com/docs/real-time-video-server/callback/cdn/cdn-record-completed",
		fields: []fieldRule{
			{name: "stream_alias", kind: ruleID, required: true, max: maxIDBytes, role: roleStreamID, key: true},
			{name: "replay_url", kind: ruleURL, required: true, max: maxReplayURLBytes, key: true},
			{name: "begin_time", kind: ruleUint, max: maxExactInteger, key: true},
			{name: "end_time", kind: ruleUint, max: maxExactInteger, key: true},
			{name: "extra_params", kind: ruleJSONText, max: maxJSONBytes},
		},
		example: []Field{{"stream_alias", "aaaa"}, {"replay_url", "https://vod.example.com/record/aaaa/1481597358.mp4"}, {"begin_time", "1481597058"},
			{"end_time", "1481597358"}, {"extra_params", `{"TaskId":"1400341231-record-aaaa","FileID":"5285890813218549789","Duration":300.0}`}},
	},
	// mix_start — Stream Mixing Started Callback.
	// https://www.zegocloud.com/docs/real-time-voice-server/callback/stream-mixing/started
	// (older edition: https://docs.zegocloud.com/article/9809: POST/FORM only,
	// appid "Uint", seq "Int")
	//
	//	field            documented type       req  rule
	//	seq              String / Int          yes  big-id digits: the mix request's sequence number
	//	task_id          String                yes  1-256 printable ASCII, no space (as compose's task_id)
	//	channel_id       String                no   id, 256 bytes
	//	publish_id       String                no   id, 256 bytes
	//	mix_url          String                no   text, 1024 bytes (an RTMP URL; 255 documented)
	//	mix_stream_alias String                no   id, 256 bytes
	//	rtmp_urls        Array                 no   array of strings, 1024 bytes each
	//	hls_urls         Array                 no   array of strings, 1024 bytes each
	//	hdl_urls         Array                 no   array of strings, 1024 bytes each
	//	stream_alias     String                no   id, 256 bytes
	//
	// Dedupe key: task_id and seq: a task is started and updated with
	// increasing sequence numbers, each its own occurrence.
	{
		name: "mix_start", meaning: "a stream mixing task started", doc: "https://www.zegocloud.com/docs/real-time-voice-server/callback/stream-mixing/started",
		fields: []fieldRule{
			{name: "seq", kind: ruleBigID, required: true, key: true},
			{name: "task_id", kind: ruleID, required: true, max: maxTaskIDBytes, role: roleTaskID, key: true},
			{name: "channel_id", kind: ruleID, max: maxIDBytes, role: roleRoomID},
			{name: "publish_id", kind: ruleID, max: maxIDBytes},
			{name: "mix_url", kind: ruleText, max: maxTextBytes},
			{name: "mix_stream_alias", kind: ruleID, max: maxIDBytes, role: roleStreamID},
			{name: "rtmp_urls", kind: ruleStrings, max: maxTextBytes},
			{name: "hls_urls", kind: ruleStrings, max: maxTextBytes},
			{name: "hdl_urls", kind: ruleStrings, max: maxTextBytes},
			{name: "stream_alias", kind: ruleID, max: maxIDBytes},
		},
		example: []Field{{"seq", "1"}, {"task_id", "1234567890-mix-task-1"}, {"channel_id", "room1"}, {"publish_id", "456"},
			{"mix_url", "rtmp://publish.example.com/live/stream3"}, {"mix_stream_alias", "stream3"},
			{"rtmp_urls", `["rtmp://play.example.com/live/stream3"]`}, {"hls_urls", `["https://play.example.com/live/stream3.m3u8"]`},
			{"hdl_urls", `["https://play.example.com/live/stream3.flv"]`}, {"stream_alias", "stream3"}},
	},
	// mix_stop — Stream Mixing Stopped Callback. No callback when stopping
	// fails or the mixing process dies (the page says so).
	// https://www.zegocloud.com/docs/real-time-video-server/callback/stream-mixing/stopped
	// (older edition: https://docs.zegocloud.com/article/9810: seq "Int" in
	// one revision, "String" in another)
	//
	//	field            documented type       req  rule
	//	seq              String / Int          yes  big-id digits
	//	task_id          String                yes  1-256 printable ASCII, no space
	//	channel_id       String                no   id, 256 bytes
	//	publish_id       String                no   id, 256 bytes
	//	mix_url          String                no   text, 1024 bytes
	//	mix_stream_alias String                no   id, 256 bytes
	//
	// Dedupe key: task_id and seq.
	{
		name: "mix_stop", meaning: "a stream mixing task stopped", doc: "https://www.zegocloud.com/docs/real-time-video-server/callback/stream-mixing/stopped",
		fields: []fieldRule{
			{name: "seq", kind: ruleBigID, required: true, key: true},
			{name: "task_id", kind: ruleID, required: true, max: maxTaskIDBytes, role: roleTaskID, key: true},
			{name: "channel_id", kind: ruleID, max: maxIDBytes, role: roleRoomID},
			{name: "publish_id", kind: ruleID, max: maxIDBytes},
			{name: "mix_url", kind: ruleText, max: maxTextBytes},
			{name: "mix_stream_alias", kind: ruleID, max: maxIDBytes, role: roleStreamID},
		},
		example: []Field{{"seq", "2"}, {"task_id", "1234567890-mix-task-1"}, {"channel_id", "room1"}, {"publish_id", "456"},
			{"mix_url", "rtmp://publish.example.com/live/stream3"}, {"mix_stream_alias", "stream3"}},
	},
}
