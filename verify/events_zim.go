package verify

// ZIM (in-app chat) callbacks: RTC's lower-case envelope (appid, event,
// timestamp, nonce, signature) and signature, 18 events. Index:
// https://www.zegocloud.com/docs/zim-server/callbacks/callback-overview
// (signature: https://zegocloud.com/docs/zim-server/callbacks/authenticating-server-to-server-callbacks;
// Chinese, with the same example: https://doc-zh.zego.im/zim-server/callbacks/authenticating-server-to-server-callbacks)
//
// Timestamp: the room and group pages' tables say milliseconds while every
// example sends ten digits (seconds), and the older Chinese room-created
// page says seconds; the others say seconds. ZIM's timestamps are read by
// magnitude (thirteen digits are milliseconds), so both readings pass.
//
// Event names collide with RTC's (room_create): a route says which
// product it receives. ZIM's room_create requires operator_account, which
// RTC's never has, so an RTC room_create on a ZIM route is refused as
// wrong_product, and the reverse by RTC's room_session_id.

const zimDoc = "https://www.zegocloud.com/docs/zim-server/callbacks/"

// Bounds of ZIM's message fields: a message body may hold a URL-encoded
// JSON document for media, multi-item and combined messages.
const maxMessageBytes = 64 << 10

// maxMemberListBytes bounds a list of objects about a group's members: the
// body limit (at most 1 MiB) is the real bound.
const maxMemberListBytes = 1 << 20

var convTypeNames = []enumName{{0, "peer"}, {1, "room"}, {2, "group"}}

var userActionNames = []enumName{{0, "online"}, {1, "logout"}, {2, "offline"}}

// zimAttributes is room_create's and group_create's attributes[].
func zimAttributes(withAutoDelete bool) fieldRule {
	members := []fieldRule{{name: "key", kind: ruleText, max: maxTextBytes}, {name: "value", kind: ruleText, max: maxJSONBytes}}
	if withAutoDelete {
		members = append(members, fieldRule{name: "auto_delete", kind: ruleUint, max: 1<<32 - 1})
	}
	return fieldRule{name: "attributes", kind: ruleObjects, max: maxMemberListBytes, members: members, items: maxMemberList}
}

// zimMessageFields are send_msg's fields; bot_msg has the same but source.
// msg_id is empty when the server API sends one message to many users:
// each recipient's ID is then in user_list. So the dedupe key is msg_id,
// the sender, the conversation, the message's time and user_list, all the
// same in ZEGO's retries: two batch sends differ in their recipients'
// message IDs, or in sender, conversation or millisecond.
func zimMessageFields(withSource bool) []fieldRule {
	fields := []fieldRule{
		{name: "from_user_id", kind: ruleID, max: maxIDBytes, key: true},
		{name: "conv_type", kind: ruleEnum, names: convTypeNames},
		{name: "conv_id", kind: ruleID, max: maxIDBytes, key: true},
		{name: "msg_type", kind: ruleUint, max: 1<<32 - 1},
		{name: "sub_msg_type", kind: ruleUint, max: 1<<32 - 1},
	}
	if withSource {
		fields = append(fields, fieldRule{name: "source", kind: ruleUint, max: 1<<32 - 1})
	}
	return append(fields,
		fieldRule{name: "msg_body", kind: ruleText, max: maxMessageBytes},
		fieldRule{name: "payload", kind: ruleText, max: maxMessageBytes},
		fieldRule{name: "msg_id", kind: ruleID, max: maxIDBytes, key: true},
		fieldRule{name: "msg_seq", kind: ruleUint, max: maxExactInteger},
		fieldRule{name: "msg_time", kind: ruleUint, max: maxExactInteger, key: true},
		fieldRule{name: "send_result", kind: ruleInt},
		fieldRule{name: "user_list", kind: ruleObjects, max: maxMemberListBytes, items: maxMemberList, key: true, members: []fieldRule{
			{name: "UserId", kind: ruleID, max: maxIDBytes},
			{name: "MsgId", kind: ruleID, max: maxIDBytes},
			{name: "MsgSeq", kind: ruleUint, max: maxExactInteger},
		}},
	)
}

var zimProduct = &product{
	name: "zim", envelope: lowerCaseFamily, doc: zimDoc + "callback-overview",
	events: []*eventSpec{
		// user_action — Login and logout.
		//	user_id String, user_name String, os String (PC, IOS_PHONE, ANDROID, MAC, LINUX,
		//	WEB, MINIPROGRAM, ANDROID_TV), action Int (0 online, 1 logout, 2 offline),
		//	session_id String, login_time Int s, relogin String "0"/"1", logout_time Int s,
		//	logout_reason String, offline_time Int s
		// Dedupe key: the user, the session, the action and its time.
		{
			name: "user_action", meaning: "a user logged in, logged out or went offline", doc: zimDoc + "login-and-logout",
			fields: []fieldRule{
				{name: "user_id", kind: ruleID, required: true, max: maxIDBytes, key: true},
				{name: "user_name", kind: ruleText, max: maxTextBytes},
				{name: "os", kind: ruleID, max: 64},
				{name: "action", kind: ruleEnum, required: true, names: userActionNames, key: true},
				{name: "session_id", kind: ruleID, max: maxIDBytes, key: true},
				{name: "login_time", kind: ruleUint, max: maxExactInteger, key: true},
				{name: "relogin", kind: ruleUint, max: 1<<32 - 1},
				{name: "logout_time", kind: ruleUint, max: maxExactInteger, key: true},
				{name: "logout_reason", kind: ruleText, max: maxTextBytes},
				{name: "offline_time", kind: ruleUint, max: maxExactInteger, key: true},
			},
			example: []Field{{"user_id", "user_1"}, {"user_name", "user_1"}, {"os", "ANDROID"}, {"action", "0"}, {"session_id", "1234567890"}, {"login_time", "1499676978"}, {"relogin", "0"}},
		},
		// room_create — room/room-created.
		//	room_id String, operator_account String, room_name String,
		//	attributes Array of {key String, value String, auto_delete Int}
		// Dedupe key: room_id and the timestamp (a room ID is reused).
		{
			name: "room_create", meaning: "a ZIM room was created", doc: zimDoc + "room/room-created", keyTimestamp: true,
			fields: []fieldRule{
				{name: "room_id", kind: ruleID, required: true, max: maxIDBytes, role: roleRoomID, key: true},
				{name: "operator_account", kind: ruleID, required: true, max: maxIDBytes},
				{name: "room_name", kind: ruleText, max: maxTextBytes},
				zimAttributes(true),
			},
			example: []Field{{"room_id", "room_1"}, {"operator_account", "user_1"}, {"room_name", "room 1"}, {"attributes", `[{"key":"k1","value":"v1","auto_delete":1}]`}},
		},
		// room_destroy — room/room-destroyed.
		//	room_id String, user_ids Array of String, operator_account String
		{
			name: "room_destroy", meaning: "a ZIM room was destroyed", doc: zimDoc + "room/room-destroyed", keyTimestamp: true,
			fields: []fieldRule{
				{name: "room_id", kind: ruleID, required: true, max: maxIDBytes, role: roleRoomID, key: true},
				{name: "user_ids", kind: ruleStrings, max: maxIDBytes, items: maxMemberList},
				{name: "operator_account", kind: ruleID, max: maxIDBytes},
			},
			example: []Field{{"room_id", "room_1"}, {"user_ids", `["user_1","user_2"]`}, {"operator_account", "user_1"}},
		},
		// room_enter — room/room-entered.
		//	room_id String, operator_account String (who entered)
		{
			name: "room_enter", meaning: "a user entered a ZIM room", doc: zimDoc + "room/room-entered", keyTimestamp: true,
			fields: []fieldRule{
				{name: "room_id", kind: ruleID, required: true, max: maxIDBytes, role: roleRoomID, key: true},
				{name: "operator_account", kind: ruleID, max: maxIDBytes, key: true},
			},
			example: []Field{{"room_id", "room_1"}, {"operator_account", "user_2"}},
		},
		// room_exit — room/room-left.
		//	room_id String, exit_type String (e.g. Kickout), operator_account String,
		//	exit_user_ids Array of String
		{
			name: "room_exit", meaning: "users left a ZIM room", doc: zimDoc + "room/room-left", keyTimestamp: true,
			fields: []fieldRule{
				{name: "room_id", kind: ruleID, required: true, max: maxIDBytes, role: roleRoomID, key: true},
				{name: "exit_type", kind: ruleID, max: 64},
				{name: "operator_account", kind: ruleID, max: maxIDBytes, key: true},
				{name: "exit_user_ids", kind: ruleStrings, max: maxIDBytes, items: maxMemberList, key: true},
			},
			example: []Field{{"room_id", "room_1"}, {"exit_type", "Kickout"}, {"operator_account", "user_1"}, {"exit_user_ids", `["user_2"]`}},
		},
		// group_create — group/group-created.
		//	group_id String, operator_account String, owner_account String, group_name String,
		//	attributes Array of {key String, value String}, user_ids Array of String
		{
			name: "group_create", meaning: "a ZIM group was created", doc: zimDoc + "group/group-created", keyTimestamp: true,
			fields: []fieldRule{
				{name: "group_id", kind: ruleID, required: true, max: maxIDBytes, key: true},
				{name: "operator_account", kind: ruleID, max: maxIDBytes},
				{name: "owner_account", kind: ruleID, max: maxIDBytes},
				{name: "group_name", kind: ruleText, max: maxTextBytes},
				zimAttributes(false),
				{name: "user_ids", kind: ruleStrings, max: maxIDBytes, items: maxMemberList},
			},
			example: []Field{{"group_id", "group_1"}, {"operator_account", "user_1"}, {"owner_account", "user_1"}, {"group_name", "group 1"},
				{"attributes", `[{"key":"k1","value":"v1"}]`}, {"user_ids", `["user_2","user_3"]`}},
		},
		// group_destroy — group/group-destroyed.
		//	group_id String, operator_account String, owner_account String, user_ids Array of String
		{
			name: "group_destroy", meaning: "a ZIM group was dismissed", doc: zimDoc + "group/group-destroyed", keyTimestamp: true,
			fields: []fieldRule{
				{name: "group_id", kind: ruleID, required: true, max: maxIDBytes, key: true},
				{name: "operator_account", kind: ruleID, max: maxIDBytes},
				{name: "owner_account", kind: ruleID, max: maxIDBytes},
				{name: "user_ids", kind: ruleStrings, max: maxIDBytes, items: maxMemberList},
			},
			example: []Field{{"group_id", "group_1"}, {"operator_account", "user_1"}, {"owner_account", "user_1"}, {"user_ids", `["user_2","user_3"]`}},
		},
		// group_join — group/group-joined. The English example's event is
		// "Apply_join_group", the table's and the Chinese example's
		// group_join: group_join is taken.
		//	group_id String, operator_account String, join_type String (e.g. Apply),
		//	new_user_ids Array of String
		{
			name: "group_join", meaning: "users joined a ZIM group", doc: zimDoc + "group/group-joined", keyTimestamp: true,
			fields: []fieldRule{
				{name: "group_id", kind: ruleID, required: true, max: maxIDBytes, key: true},
				{name: "operator_account", kind: ruleID, max: maxIDBytes},
				{name: "join_type", kind: ruleID, max: 64},
				{name: "new_user_ids", kind: ruleStrings, max: maxIDBytes, items: maxMemberList, key: true},
			},
			example: []Field{{"group_id", "group_1"}, {"operator_account", "user_4"}, {"join_type", "Apply"}, {"new_user_ids", `["user_4"]`}},
		},
		// group_exit — group/group-left.
		//	group_id String, exit_type String, operator_account String, exit_user_ids Array of String
		{
			name: "group_exit", meaning: "users left a ZIM group", doc: zimDoc + "group/group-left", keyTimestamp: true,
			fields: []fieldRule{
				{name: "group_id", kind: ruleID, required: true, max: maxIDBytes, key: true},
				{name: "exit_type", kind: ruleID, max: 64},
				{name: "operator_account", kind: ruleID, max: maxIDBytes},
				{name: "exit_user_ids", kind: ruleStrings, max: maxIDBytes, items: maxMemberList, key: true},
			},
			example: []Field{{"group_id", "group_1"}, {"exit_type", "Kickout"}, {"operator_account", "user_1"}, {"exit_user_ids", `["user_3"]`}},
		},
		// call_create — Call invitation sent.
		//	call_id String, user_ids Array of String, create_time Int, payload String,
		//	caller String, timeout Int s
		// Dedupe key: call_id (a call is created once).
		{
			name: "call_create", meaning: "a call invitation was sent", doc: zimDoc + "call-invitation-sent",
			fields: []fieldRule{
				{name: "call_id", kind: ruleID, required: true, max: maxIDBytes, key: true},
				{name: "user_ids", kind: ruleStrings, max: maxIDBytes, items: maxMemberList},
				{name: "create_time", kind: ruleUint, max: maxExactInteger},
				{name: "payload", kind: ruleText, max: maxMessageBytes},
				{name: "caller", kind: ruleID, max: maxIDBytes},
				{name: "timeout", kind: ruleUint, max: 1<<32 - 1},
			},
			example: []Field{{"call_id", "3501761173612493269"}, {"user_ids", `["abc","def"]`}, {"create_time", "1499676968"}, {"payload", "payload"}, {"caller", "caller_1"}, {"timeout", "30"}},
		},
		// call_cancel — Call invitation canceled.
		//	call_id String, user_ids Array of String, reason String (caller_cancel,
		//	timeout_cancel), payload String
		{
			name: "call_cancel", meaning: "a call invitation was cancelled", doc: zimDoc + "call-invitation-canceled",
			fields: []fieldRule{
				{name: "call_id", kind: ruleID, required: true, max: maxIDBytes, key: true},
				{name: "user_ids", kind: ruleStrings, max: maxIDBytes, items: maxMemberList},
				{name: "reason", kind: ruleID, max: 64},
				{name: "payload", kind: ruleText, max: maxMessageBytes},
			},
			example: []Field{{"call_id", "3501761173612493269"}, {"user_ids", `["abc","def"]`}, {"reason", "caller_cancel"}, {"payload", "payload"}},
		},
		// call_accept — Call invitation accepted.
		//	call_id String, user_id String, extend_data String
		{
			name: "call_accept", meaning: "a user accepted a call invitation", doc: zimDoc + "call-invitation-accepted",
			fields: []fieldRule{
				{name: "call_id", kind: ruleID, required: true, max: maxIDBytes, key: true},
				{name: "user_id", kind: ruleID, required: true, max: maxIDBytes, key: true},
				{name: "extend_data", kind: ruleText, max: maxMessageBytes},
			},
			example: []Field{{"call_id", "3501761173612493269"}, {"user_id", "abc"}, {"extend_data", "extend_data"}},
		},
		// call_reject — Call invitation rejected.
		//	call_id String, user_id String, extend_data String
		{
			name: "call_reject", meaning: "a user rejected a call invitation", doc: zimDoc + "call-invitation-rejected",
			fields: []fieldRule{
				{name: "call_id", kind: ruleID, required: true, max: maxIDBytes, key: true},
				{name: "user_id", kind: ruleID, required: true, max: maxIDBytes, key: true},
				{name: "extend_data", kind: ruleText, max: maxMessageBytes},
			},
			example: []Field{{"call_id", "3501761173612493269"}, {"user_id", "def"}, {"extend_data", "extend_data"}},
		},
		// call_timeout — Call invitation timed out.
		//	call_id String, user_ids Array of String
		{
			name: "call_timeout", meaning: "a call invitation timed out", doc: zimDoc + "call-invitation-timed-out",
			fields: []fieldRule{
				{name: "call_id", kind: ruleID, required: true, max: maxIDBytes, key: true},
				{name: "user_ids", kind: ruleStrings, max: maxIDBytes, items: maxMemberList, key: true},
			},
			example: []Field{{"call_id", "3501761173612493269"}, {"user_ids", `["abc","def"]`}},
		},
		// call_invite — call-invitation-during-a-call (not in the index).
		//	call_id String, user_ids Array of String, inviter String, invite_time Int (ms in the example)
		{
			name: "call_invite", meaning: "users were invited into a call under way", doc: zimDoc + "call-invitation-during-a-call",
			fields: []fieldRule{
				{name: "call_id", kind: ruleID, required: true, max: maxIDBytes, key: true},
				{name: "user_ids", kind: ruleStrings, max: maxIDBytes, items: maxMemberList, key: true},
				{name: "inviter", kind: ruleID, max: maxIDBytes, key: true},
				{name: "invite_time", kind: ruleUint, max: maxExactInteger, key: true},
			},
			example: []Field{{"call_id", "3501761173612493269"}, {"user_ids", `["ghi"]`}, {"inviter", "abc"}, {"invite_time", "1499676968000"}},
		},
		// before_send_msg — Message not sent yet. Synchronous: the backend's
		// JSON answer ({"result":0..3, "reason", "new_payload",
		// "new_msg_body"}) decides whether the message is sent. ZEGO waits
		// 2.5 s and retries once at once (Chinese page) or retries after
		// 3 s (English page).
		//	request_id String, from_user_id String, conv_id String, conv_type Int (0 peer,
		//	1 room, 2 group), msg_id String, payload String, msg_type Int, sub_msg_type Int,
		//	msg_body String (URL-encoded JSON for media, multi-item and combined messages)
		{
			name: "before_send_msg", meaning: "a chat message asks to be sent (the backend decides)", doc: zimDoc + "message-not-sent-yet", synchronous: true,
			fields: []fieldRule{
				{name: "request_id", kind: ruleID, required: true, max: maxIDBytes, key: true},
				{name: "from_user_id", kind: ruleID, max: maxIDBytes},
				{name: "conv_id", kind: ruleID, max: maxIDBytes},
				{name: "conv_type", kind: ruleEnum, names: convTypeNames},
				{name: "msg_id", kind: ruleID, max: maxIDBytes},
				{name: "payload", kind: ruleText, max: maxMessageBytes},
				{name: "msg_type", kind: ruleUint, max: 1<<32 - 1},
				{name: "sub_msg_type", kind: ruleUint, max: 1<<32 - 1},
				{name: "msg_body", kind: ruleText, max: maxMessageBytes},
			},
			example: []Field{{"from_user_id", "sender"}, {"conv_id", "receiver"}, {"request_id", "3501907290370176"}, {"msg_id", "1234232421343"},
				{"conv_type", "0"}, {"msg_body", "msg_body"}, {"msg_type", "1"}, {"sub_msg_type", "0"}, {"payload", "payload"}},
		},
		// send_msg — Message sent.
		//	from_user_id String, conv_type Int, conv_id String, msg_type Int, sub_msg_type Int,
		//	source Int, msg_body String, payload String (in the example, not the table),
		//	msg_id String (empty for the server API's batch sends), msg_seq Int,
		//	msg_time Int ms, send_result Int, user_list Array of {UserId String,
		//	MsgId String, MsgSeq Int} (a batch send's recipients)
		// Dedupe key: msg_id, from_user_id, conv_id, msg_time and user_list
		// (see zimMessageFields).
		{
			name: "send_msg", meaning: "a chat message was sent", doc: zimDoc + "message-sent",
			fields:  zimMessageFields(true),
			example: []Field{{"from_user_id", "sender"}, {"conv_type", "0"}, {"conv_id", "receiver"}, {"msg_type", "1"}, {"sub_msg_type", "0"}, {"source", "0"}, {"msg_body", "hello"}, {"msg_id", "1234232421343"}, {"msg_seq", "1"}, {"msg_time", "1499676968000"}, {"send_result", "0"}},
		},
		// bot_msg — One to one conversation bot message sent.
		//	as send_msg without source (the example has UserId and MsgId in user_list)
		{
			name: "bot_msg", meaning: "a message was sent to a chat bot", doc: zimDoc + "one-to-one-conversation-bot-message-sent",
			fields:  zimMessageFields(false),
			example: []Field{{"from_user_id", "sender"}, {"conv_type", "0"}, {"conv_id", "bot_1"}, {"msg_type", "1"}, {"sub_msg_type", "0"}, {"msg_body", "hello"}, {"msg_id", "1234232421344"}, {"msg_seq", "2"}, {"msg_time", "1499676969000"}, {"send_result", "0"}, {"user_list", `[{"UserId":"bot_1","MsgId":"1234232421345"}]`}},
		},
	},
}
