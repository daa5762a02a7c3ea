package verify

// Cloud Recording's status callback: a snake_case envelope (app_id,
// event_type, timestamp, nonce, signature) whose event is a number, signed
// as RTC's (the English page has its own copy of the sha1 code, the
// Chinese one embeds the snippet).
// https://www.zegocloud.com/docs/cloud-recording-server/recording-status-callback
// (Chinese: https://doc-zh.zego.im/cloud-recording-server/end-callback)
//
//	field       documented type  rule
//	app_id      Int64            envelope
//	event_type  Int              envelope: the event, by number (names below are the edge's)
//	nonce       String           envelope
//	timestamp   String           envelope (unit unstated; the example's ten digits are seconds)
//	signature   String           envelope
//	task_id     String           id, required (16 bytes on the page; 256 allowed)
//	room_id     String           id, 256 bytes
//	message     String           text, 1024 bytes
//	sequence    Int              uint ("starts from 0")
//	detail      JSON Object      object: members per event_type (below), unknown ones kept
//
// The pages give no column of required fields; task_id is required, as
// every callback is about one task. The page asks receivers not to hard
// code: ZEGO adds members and values. Dedupe key: task_id and sequence
// (with the event, as for every event): the sequence numbers a task's
// callbacks, so event 4, repeated every 30 s while the room has no
// stream, is delivered each time. Only the Chinese page states a retry
// policy (2 retries, 5 s apart, only when there is no response).
//
// The Chinese page warns that this is the v2 callback, for accounts that
// enabled Cloud Recording after 2021-11-29; the older one
// (https://doc-zh.zego.im/article/5861) is not supported.
const cloudRecordingDoc = "https://www.zegocloud.com/docs/cloud-recording-server/recording-status-callback"

var mediaTrackTypeNames = []enumName{{1, "audio"}, {2, "video"}, {3, "audio_video"}}

// recordingEvent is one Cloud Recording event_type: the common fields,
// then detail with the event's members.
func recordingEvent(code uint32, name, meaning string, detail []fieldRule, example string) *eventSpec {
	return &eventSpec{
		name: name, meaning: meaning, doc: cloudRecordingDoc, code: code,
		fields: []fieldRule{
			{name: "task_id", kind: ruleID, required: true, max: maxIDBytes, role: roleTaskID, key: true},
			{name: "room_id", kind: ruleID, max: maxIDBytes, role: roleRoomID},
			{name: "message", kind: ruleText, max: maxTextBytes},
			{name: "sequence", kind: ruleUint, max: maxExactInteger, key: true, orTimestamp: true},
			{name: "detail", kind: ruleObject, max: maxObjectBytes, members: detail},
		},
		example: []Field{{"task_id", "YZ4joOE4IwmFAAAT"}, {"room_id", "6677"}, {"message", ""}, {"sequence", "1"}, {"detail", example}},
	}
}

var cloudRecordingProduct = &product{
	name: "cloud_recording", envelope: cloudRecordingFamily, doc: cloudRecordingDoc,
	events: []*eventSpec{
		//	detail: upload_status int (1 all uploaded, 2 some), file_info Array of {user_id,
		//	user_name, stream_id, file_id, video_id, file_url, output_file_format String,
		//	file_size Int64 bytes, duration Int ms, resolution_width, resolution_height Int,
		//	media_track_type Int (1 audio, 2 video, 3 both), begin_timestamp Int64 ms,
		//	custom_begin_timestamp Int64 (English page only), status Int (3 uploaded,
		//	4 on ZEGO's backup storage, kept 3 days, 5 failed)}
		recordingEvent(1, "upload_status", "the recorded files were uploaded (or some failed)", []fieldRule{
			{name: "upload_status", kind: ruleEnum, names: []enumName{{1, "all_uploaded"}, {2, "some_uploaded"}}},
			{name: "file_info", kind: ruleObjects, max: maxObjectBytes, items: maxMemberList, members: []fieldRule{
				{name: "user_id", kind: ruleID, max: maxIDBytes},
				{name: "user_name", kind: ruleText, max: maxTextBytes},
				{name: "stream_id", kind: ruleID, max: maxIDBytes},
				{name: "file_id", kind: ruleText, max: maxTextBytes},
				{name: "video_id", kind: ruleID, max: maxIDBytes},
				{name: "file_url", kind: ruleText, max: maxReplayURLBytes},
				{name: "output_file_format", kind: ruleID, max: 16},
				{name: "file_size", kind: ruleUint, max: maxExactInteger},
				{name: "duration", kind: ruleUint, max: maxExactInteger},
				{name: "resolution_width", kind: ruleUint, max: 1<<32 - 1},
				{name: "resolution_height", kind: ruleUint, max: 1<<32 - 1},
				{name: "media_track_type", kind: ruleEnum, names: mediaTrackTypeNames},
				{name: "begin_timestamp", kind: ruleUint, max: maxExactInteger},
				{name: "custom_begin_timestamp", kind: ruleUint, max: maxExactInteger},
				{name: "status", kind: ruleEnum, names: []enumName{{3, "uploaded"}, {4, "backup_storage"}, {5, "failed"}}},
			}},
		}, `{"file_info":[{"begin_timestamp":1637753762084,"duration":170039,"file_id":"YZ4joOE4IwmFAAAT_6677_800221_800221_VA_20211124113602084.mp4","file_size":25349026,"file_url":"https://example.com/a.mp4","media_track_type":3,"output_file_format":"mp4","resolution_height":720,"resolution_width":1280,"status":3,"stream_id":"800221","user_id":"800221","user_name":"play_800221","video_id":""}],"upload_status":1}`),
		//	detail: quit_reason int (1 to 6, 1001 to 1011)
		recordingEvent(2, "abnormal_end", "the recording task ended abnormally", []fieldRule{
			{name: "quit_reason", kind: ruleEnum, names: quitReasonNames},
		}, `{"quit_reason":3}`),
		//	detail: image_type int (1 canvas background, 2 watermark, 3 default stream
		//	background, 4 custom-layout background), image_url String
		recordingEvent(3, "image_download_failed", "a background or watermark image failed to download", []fieldRule{
			{name: "image_type", kind: ruleEnum, names: []enumName{{1, "canvas_background"}, {2, "watermark"}, {3, "default_stream_background"}, {4, "layout_background"}}},
			{name: "image_url", kind: ruleText, max: maxReplayURLBytes},
		}, `{"image_type":2,"image_url":"https://example.com/watermark.png"}`),
		//	detail: "Empty" (4, 5, 7, 201 and 202; absent, {} and null all pass)
		recordingEvent(4, "no_streams", "the recorded room has no stream (repeated every 30 s)", nil, `{}`),
		recordingEvent(5, "completed", "the recording ended normally", nil, `{}`),
		//	detail: stream_id String
		recordingEvent(6, "stream_not_found", "the stream to record does not exist", []fieldRule{
			{name: "stream_id", kind: ruleID, max: maxIDBytes},
		}, `{"stream_id":"800221"}`),
		recordingEvent(7, "uploading", "the recording stopped and its files are uploading", nil, `{}`),
		//	detail: stream_id, file_id, file_url String, media_track_type Int
		recordingEvent(102, "m3u8_slice", "a real-time upload's M3U8 file address", []fieldRule{
			{name: "stream_id", kind: ruleID, max: maxIDBytes},
			{name: "file_id", kind: ruleText, max: maxTextBytes},
			{name: "file_url", kind: ruleText, max: maxReplayURLBytes},
			{name: "media_track_type", kind: ruleEnum, names: mediaTrackTypeNames},
		}, `{"stream_id":"800221","file_id":"800221.m3u8","file_url":"https://example.com/800221.m3u8","media_track_type":3}`),
		recordingEvent(201, "paused", "the recording was paused", nil, `{}`),
		recordingEvent(202, "resumed", "the recording was resumed", nil, `{}`),
	},
}

var quitReasonNames = []enumName{
	{1, "service_failed_to_start"}, {2, "room_login_failed"}, {3, "idle_timeout"}, {4, "max_record_time"},
	{5, "engine_failed_to_start"}, {6, "service_disconnected"}, {1001, "unknown_error"}, {1002, "file_name_too_long"},
	{1003, "file_open_failed"}, {1004, "storage_full"}, {1005, "engine_init_failed"}, {1006, "file_header_write_failed"},
	{1007, "file_write_ebadf"}, {1008, "file_write_eio"}, {1009, "internal_channel_error"}, {1010, "file_format_unsupported"},
	{1011, "illegal_recording_status"},
}
