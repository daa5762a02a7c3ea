package verify

// Cloud Player's and Digital Human's callbacks: PascalCase envelopes whose
// event is a number (EventType), signed as RTC's. The edge names each
// number; the document carries both ("event" and "event_type").

// cloudPlayerDoc lists every Cloud Player callback on one page.
// https://www.zegocloud.com/docs/cloud-player-server/callback/callback
//
//	field         documented type  rule
//	AppID         Number           envelope (capital D; the upload example sends a string: both pass)
//	EventType     Number           envelope: the event, by number
//	Nonce         String           envelope
//	Timestamp     String, seconds  envelope (thirteen digits would be read as milliseconds)
//	Signature     String           envelope
//	RoomId        String           id, 256 bytes (player tasks)
//	PlayerId      String           id, 256 bytes (player tasks)
//	UploadTaskId  String           id, 256 bytes (upload tasks)
//	EventTime     String, ms       uint (the examples send a number and a string: both pass)
//	Detail        Object           object: members per EventType (below), unknown ones kept
//
// The examples also send PlayerName, StreamUrl and Title, which the table
// does not list: they are forwarded in extra. Dedupe key: RoomId,
// PlayerId, UploadTaskId (a player task has the first two, an upload task
// the third; the page marks none required) and EventTime ("use this field
// to determine the order of callbacks"), the timestamp standing in when
// EventTime is absent. ZEGO
// retries twice, at once, only when it gets no response.
const cloudPlayerDoc = "https://www.zegocloud.com/docs/cloud-player-server/callback/callback"

// playerEvent is one Cloud Player EventType: the common fields, then
// Detail with the event's members.
func playerEvent(code uint32, name, meaning string, detail []fieldRule, example string) *eventSpec {
	return &eventSpec{
		name: name, meaning: meaning, doc: cloudPlayerDoc, code: code,
		fields: []fieldRule{
			{name: "RoomId", kind: ruleID, max: maxIDBytes, role: roleRoomID, key: true},
			{name: "PlayerId", kind: ruleID, max: maxIDBytes, role: roleTaskID, key: true},
			{name: "UploadTaskId", kind: ruleID, max: maxIDBytes, role: roleTaskID, key: true},
			{name: "EventTime", kind: ruleUint, max: maxExactInteger, key: true, orTimestamp: true},
			{name: "Detail", kind: ruleObject, max: maxObjectBytes, members: detail},
		},
		example: []Field{{"RoomId", "room_12"}, {"PlayerId", "player_1"}, {"EventTime", "1681221510034"}, {"Detail", example}},
	}
}

// uploadEvent is playerEvent for an upload task, which has no room or
// player.
func uploadEvent(code uint32, name, meaning string, detail []fieldRule, example string) *eventSpec {
	spec := playerEvent(code, name, meaning, detail, example)
	spec.example = []Field{{"UploadTaskId", "678f663727b2d80007000001"}, {"EventTime", "1737451074593"}, {"Detail", example}}
	return spec
}

var playIndexMember = fieldRule{name: "PlayIndex", kind: ruleUint, max: 1<<32 - 1}

var cloudPlayerProduct = &product{
	name: "cloud_player", envelope: cloudPlayerFamily, doc: cloudPlayerDoc,
	events: []*eventSpec{
		//	Detail: CreateTime, PlayTime Number s, MaxIdleTime Number s, StreamUrl String
		playerEvent(1, "player_created", "a cloud player was created", []fieldRule{
			{name: "CreateTime", kind: ruleUint, max: maxExactInteger},
			{name: "PlayTime", kind: ruleUint, max: maxExactInteger},
			{name: "MaxIdleTime", kind: ruleUint, max: maxExactInteger},
			{name: "StreamUrl", kind: ruleText, max: maxReplayURLBytes},
		}, `{"CreateTime":1681221508,"PlayTime":1681221508,"MaxIdleTime":30,"StreamUrl":"https://example.com/video/test.mp4"}`),
		//	Detail: PlayTime Number s, Reason Number (1 DeletePlayer, 2 idle past
		//	MaxIdleTime, 3 playback ended, 4 publishing failed, 5 room entry failed or kicked out)
		playerEvent(2, "player_destroyed", "a cloud player was destroyed", []fieldRule{
			{name: "PlayTime", kind: ruleUint, max: maxExactInteger},
			{name: "Reason", kind: ruleEnum, names: []enumName{{1, "deleted"}, {2, "idle_timeout"}, {3, "playback_ended"}, {4, "publish_failed"}, {5, "room_failed"}}},
		}, `{"PlayTime":1681221508,"Reason":3}`),
		//	Detail: Status Number (1 creating to 8 destroyed), PlayIndex Number
		//	(when Status is 4 or 5; the older Chinese copy lacks it)
		playerEvent(3, "player_status", "a cloud player's status changed", []fieldRule{
			{name: "Status", kind: ruleEnum, names: []enumName{{1, "creating"}, {2, "connecting"}, {3, "waiting"}, {4, "playing"}, {5, "paused"}, {6, "connect_failed"}, {7, "ended"}, {8, "destroyed"}}},
			playIndexMember,
		}, `{"Status":4,"PlayIndex":0}`),
		//	Detail: Code Number (-7 to -1, 1 to 7; the older Chinese copy stops at 5),
		//	PlayIndex Number (when Code is 7)
		playerEvent(4, "player_exception", "a cloud player hit an exception", []fieldRule{
			{name: "Code", kind: ruleInt}, playIndexMember,
		}, `{"Code":-7}`),
		//	Detail: "Empty" (the upload example sends {})
		uploadEvent(10001, "file_uploaded", "a file was uploaded", nil, `{}`),
		//	Detail: Reason Number (1 download failed, 2 upload error, 3 file too large)
		uploadEvent(10002, "upload_failed", "a file upload failed", []fieldRule{
			{name: "Reason", kind: ruleEnum, names: []enumName{{1, "download_failed"}, {2, "upload_error"}, {3, "file_too_large"}}},
		}, `{"Reason":1}`),
		//	Detail: Status Number (1 pending, 2 uploading, 3 cancelled)
		uploadEvent(10003, "upload_status", "an upload task's status changed", []fieldRule{
			{name: "Status", kind: ruleEnum, names: []enumName{{1, "pending"}, {2, "uploading"}, {3, "cancelled"}}},
		}, `{"Status":2}`),
		//	Detail: Reason Number (1 uploading, 2 already uploaded)
		uploadEvent(10004, "cancel_failed", "an upload could not be cancelled", []fieldRule{
			{name: "Reason", kind: ruleEnum, names: []enumName{{1, "uploading"}, {2, "uploaded"}}},
		}, `{"Reason":2}`),
		//	Detail: Code Number (1 unknown, 2 upload error; ZEGO retries the upload)
		uploadEvent(10005, "upload_exception", "an upload hit an exception", []fieldRule{
			{name: "Code", kind: ruleInt},
		}, `{"Code":1}`),
		//	Detail: "Empty"
		uploadEvent(10006, "file_expired", "an uploaded file expired", nil, `{}`),
	},
}

// digitalHumanDoc lists the Digital Human's streaming callbacks.
// https://www.zegocloud.com/docs/aigc-digital-human-server/streaming-apis/receiving-callback
//
//	field      documented type  rule
//	AppId      Number           envelope
//	EventType  Number           envelope: 3 stream task status, 4 drive task status
//	Nonce      String           envelope
//	Timestamp  String           envelope, read by magnitude (below)
//	Signature  String           envelope
//	EventTime  Number, ms       uint
//	TaskId     String           id, required
//	Detail     Object           object: members per EventType (below), unknown ones kept
//
// Timestamp: the table said seconds, then (2026-05) milliseconds, while
// every example sends ten digits; ten digits are read as seconds and
// thirteen as milliseconds, so both readings pass. Dedupe key: TaskId,
// EventTime and Detail's Status (and DriveId for a drive task), the
// timestamp standing in when EventTime is absent.
const digitalHumanDoc = "https://www.zegocloud.com/docs/aigc-digital-human-server/streaming-apis/receiving-callback"

func digitalHumanEvent(code uint32, name, meaning string, detail []fieldRule, example string) *eventSpec {
	return &eventSpec{
		name: name, meaning: meaning, doc: digitalHumanDoc, code: code,
		fields: []fieldRule{
			{name: "TaskId", kind: ruleID, required: true, max: maxIDBytes, role: roleTaskID, key: true},
			{name: "EventTime", kind: ruleUint, max: maxExactInteger, key: true, orTimestamp: true},
			{name: "Detail", kind: ruleObject, max: maxObjectBytes, members: detail},
		},
		example: []Field{{"TaskId", "task_1"}, {"EventTime", "1681221510034"}, {"Detail", example}},
	}
}

var digitalHumanProduct = &product{
	name: "digital_human", envelope: digitalHumanFamily, doc: digitalHumanDoc,
	events: []*eventSpec{
		//	Detail: Status Number (1 initializing, 2 initialization failed, 3 streaming,
		//	4 stopping, 5 stopped), RoomId, StreamId String, FailReason String (Status 2)
		digitalHumanEvent(3, "stream_task_status", "a digital human stream task's status changed", []fieldRule{
			{name: "Status", kind: ruleEnum, key: true, names: []enumName{{1, "initializing"}, {2, "init_failed"}, {3, "streaming"}, {4, "stopping"}, {5, "stopped"}}},
			{name: "RoomId", kind: ruleID, max: maxIDBytes},
			{name: "StreamId", kind: ruleID, max: maxIDBytes},
			{name: "FailReason", kind: ruleText, max: maxTextBytes},
		}, `{"Status":3,"RoomId":"room_1","StreamId":"stream_1"}`),
		//	Detail: DriveId String, Status Number (1 queued, 2 driving: speaking starts,
		//	3 failed, 4 ended: speaking stops)
		digitalHumanEvent(4, "drive_task_status", "a digital human drive task's status changed (speaking started or stopped)", []fieldRule{
			{name: "DriveId", kind: ruleID, max: maxIDBytes, key: true},
			{name: "Status", kind: ruleEnum, key: true, names: []enumName{{1, "queued"}, {2, "driving"}, {3, "failed"}, {4, "ended"}}},
		}, `{"DriveId":"drive_1","Status":2}`),
	},
}
