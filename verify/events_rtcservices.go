package verify

// RTC's service callbacks beyond the room, stream and recording events:
// on-demand transcoding and screenshots (lower-case, as the rest of RTC),
// single-stream transcoding (Event and Appid) and stream moderation (Event
// and AppId). All sign as RTC's; the index of RTC's 19 callbacks is
// https://www.zegocloud.com/docs/real-time-video-server/api-reference/overview
// (snapshot has a page but no row there).

const rtcTranscodeDoc = "https://www.zegocloud.com/docs/real-time-video-server/callback/transcoding/"

// transcodeMembers are single-stream transcoding's Details.
var transcodeMembers = []fieldRule{
	{name: "Input", kind: ruleObject, max: maxJSONBytes, members: []fieldRule{
		{name: "StreamId", kind: ruleID, max: maxIDBytes},
		{name: "StreamUrl", kind: ruleText, max: maxReplayURLBytes},
	}},
	{name: "Outputs", kind: ruleObjects, max: maxObjectBytes, members: []fieldRule{
		{name: "StreamId", kind: ruleID, max: maxIDBytes},
		{name: "StreamUrl", kind: ruleText, max: maxReplayURLBytes},
		{name: "VideoEncId", kind: ruleInt},
		{name: "VideoBitrate", kind: ruleInt},
		{name: "ShortEdgeAdaption", kind: ruleInt},
		{name: "Fps", kind: ruleInt},
		{name: "Width", kind: ruleInt},
		{name: "Height", kind: ruleInt},
		{name: "GOP", kind: ruleInt},
	}},
}

// moderationDoc is where RTC's stream moderation callbacks are documented.
const moderationDoc = "https://www.zegocloud.com/docs/real-time-video-server/callback/moderation/"

// moderationResult is one of the moderation result events.
//
//	Code Number, Message String, TaskId String, ResultTaskId String,
//	Detail Object {RiskLevel PASS/REVIEW/REJECT (typed Number, sent as a
//	string), AudioText, Content, ImgUrl, AudioUrl, PreAudioUrl,
//	RiskDescription, RiskLabel1, RiskLabel2, RiskLabel3, VadStatus Number,
//	RiskDetail Object, RiskInfoList and BusinessInfoList Arrays of Object},
//	AuxInfo Object {RoomId, UserId, StreamId, ProcessBeginTime and
//	ProcessFinishTime (ms), or ImgTime (a Beijing-time string)}
//
// The audio and video pages share these tables, each event using its part
// (AudioText for audio, Content or ImgUrl for images); the rest are "" or
// null. RiskDetail's and the lists' members are kept as sent.
//
// Dedupe key: TaskId and ResultTaskId (one result's ID), the timestamp
// standing in when ResultTaskId is absent.
func moderationResult(name, meaning, page string) *eventSpec {
	return &eventSpec{
		name: name, meaning: meaning, doc: moderationDoc + page, envelope: &moderationFamily,
		fields: []fieldRule{
			{name: "Code", kind: ruleInt},
			{name: "Message", kind: ruleText, max: maxTextBytes},
			{name: "TaskId", kind: ruleID, required: true, max: maxIDBytes, role: roleTaskID, key: true},
			{name: "ResultTaskId", kind: ruleID, max: maxIDBytes, key: true, orTimestamp: true},
			{name: "Detail", kind: ruleObject, max: maxObjectBytes, members: []fieldRule{
				{name: "RiskLevel", kind: ruleID, max: 16},
				{name: "AudioText", kind: ruleText, max: maxMessageBytes},
				{name: "Content", kind: ruleText, max: maxMessageBytes},
				{name: "ImgUrl", kind: ruleText, max: maxReplayURLBytes},
				{name: "AudioUrl", kind: ruleText, max: maxReplayURLBytes},
				{name: "PreAudioUrl", kind: ruleText, max: maxReplayURLBytes},
				{name: "RiskDescription", kind: ruleText, max: maxTextBytes},
				{name: "RiskLabel1", kind: ruleText, max: maxTextBytes},
				{name: "RiskLabel2", kind: ruleText, max: maxTextBytes},
				{name: "RiskLabel3", kind: ruleText, max: maxTextBytes},
				{name: "VadStatus", kind: ruleInt},
				{name: "RiskDetail", kind: ruleObject, max: maxObjectBytes},
				{name: "RiskInfoList", kind: ruleObjects, max: maxObjectBytes},
				{name: "BusinessInfoList", kind: ruleObjects, max: maxObjectBytes},
			}},
			{name: "AuxInfo", kind: ruleObject, max: maxJSONBytes, members: []fieldRule{
				{name: "RoomId", kind: ruleID, max: maxIDBytes},
				{name: "UserId", kind: ruleID, max: maxIDBytes},
				{name: "StreamId", kind: ruleID, max: maxIDBytes},
				{name: "ProcessBeginTime", kind: ruleUint, max: maxExactInteger},
				{name: "ProcessFinishTime", kind: ruleUint, max: maxExactInteger},
				{name: "ImgTime", kind: ruleText, max: 64},
			}},
		},
		example: []Field{{"Code", "0"}, {"Message", "success"}, {"TaskId", "384a8a77aeb352d3ec8144ab4640cc52"}, {"ResultTaskId", "result_1"},
			{"Detail", `{"RiskLevel":"PASS"}`}, {"AuxInfo", `{"RoomId":"room_1","UserId":"user_1","StreamId":"stream_1"}`}},
	}
}

// moderationStatus is one of the moderation status events.
//
//	Code Number, Message String, TaskId String, Status Number (0 done),
//	AuxInfo Object {RoomId String, CensorStreamTime Number s}
//
// Dedupe key: TaskId, Status and the timestamp: the page gives no ID of
// one status report.
func moderationStatus(name, meaning, page string) *eventSpec {
	return &eventSpec{
		name: name, meaning: meaning, doc: moderationDoc + page, envelope: &moderationFamily, keyTimestamp: true,
		fields: []fieldRule{
			{name: "Code", kind: ruleInt},
			{name: "Message", kind: ruleText, max: maxTextBytes},
			{name: "TaskId", kind: ruleID, required: true, max: maxIDBytes, role: roleTaskID, key: true},
			{name: "Status", kind: ruleInt, key: true},
			{name: "AuxInfo", kind: ruleObject, max: maxJSONBytes, members: []fieldRule{
				{name: "RoomId", kind: ruleID, max: maxIDBytes},
				{name: "CensorStreamTime", kind: ruleUint, max: maxExactInteger},
			}},
		},
		example: []Field{{"Code", "0"}, {"Message", "success"}, {"TaskId", "384a8a77aeb352d3ec8144ab4640cc52"}, {"Status", "0"},
			{"AuxInfo", `{"RoomId":"room_1","CensorStreamTime":31}`}},
	}
}

var rtcServiceEvents = []*eventSpec{
	// procedure — On-Demand Transcoding Completed.
	// https://www.zegocloud.com/docs/real-time-video-server/callback/cdn/on-demand-transcoding-completed
	//
	//	field         documented type  rule
	//	task_id       String           id, required
	//	status        String           id, 16 bytes (SUCCESS or FAILED)
	//	file_id       String           id (the table says fileId, the example file_id: file_id is read,
	//	                               a fileId is forwarded in extra)
	//	extra_params  String           json text (a JSON string; the example's is the placeholder word)
	//
	// The timestamp's unit is unstated (the example's nine digits): read by
	// magnitude. Dedupe key: task_id.
	{
		name: "procedure", meaning: "an on-demand transcoding finished", doc: "https://www.zegocloud.com/docs/real-time-video-server/callback/cdn/on-demand-transcoding-completed",
		fields: []fieldRule{
			{name: "task_id", kind: ruleID, required: true, max: maxIDBytes, role: roleTaskID, key: true},
			{name: "status", kind: ruleID, max: 16},
			{name: "file_id", kind: ruleID, max: maxIDBytes},
			{name: "extra_params", kind: ruleJSONText, max: maxObjectBytes},
		},
		example: []Field{{"task_id", "task_1"}, {"status", "SUCCESS"}, {"file_id", "3270835010897125368"}, {"extra_params", `{"media":{"transcode":[]}}`}},
	},
	// snapshot — On-Demand Screenshot Completed.
	// https://www.zegocloud.com/docs/real-time-video-server/callback/cdn/media-thumbnails-completed
	//
	//	field              documented type           rule
	//	task_id            String                    id, required
	//	vendor             String                    id, 16 bytes (tencent or hw)
	//	field_id           String                    id (Tencent only)
	//	snapshot_pic_list  Array SnapshotPicObject   objects {url String, offset float ms}
	//	                                             (the example sends the array's JSON text as a string: both pass)
	//
	// Dedupe key: task_id.
	{
		name: "snapshot", meaning: "on-demand screenshots were taken", doc: "https://www.zegocloud.com/docs/real-time-video-server/callback/cdn/media-thumbnails-completed",
		fields: []fieldRule{
			{name: "task_id", kind: ruleID, required: true, max: maxIDBytes, role: roleTaskID, key: true},
			{name: "vendor", kind: ruleID, max: 16},
			{name: "field_id", kind: ruleID, max: maxIDBytes},
			{name: "snapshot_pic_list", kind: ruleObjects, max: maxObjectBytes, items: maxMemberList, members: []fieldRule{
				{name: "url", kind: ruleText, max: maxReplayURLBytes},
				{name: "offset", kind: ruleNumber},
			}},
		},
		example: []Field{{"task_id", "1253642700910365374"}, {"field_id", "abcwurywbhsfwi"}, {"vendor", "tencent"},
			{"snapshot_pic_list", `[{"url":"https://example.com/1.jpg","offset":0}]`}},
	},
	// transcode_start — On-Demand Transcoding Started (single-stream).
	//
	//	TaskId String, UserId String, Sequence Int, Status String (TranscodeStarted
	//	or TranscodeUpdated), Details Object {Input {StreamId, StreamUrl},
	//	Outputs [{StreamId, StreamUrl, VideoEncId, VideoBitrate, ShortEdgeAdaption,
	//	Fps, Width, Height, GOP: Int}]}
	//
	// Dedupe key: TaskId, Sequence (of the start or update request) and
	// Status, the timestamp standing in when Sequence is absent.
	{
		name: "transcode_start", meaning: "a single-stream transcoding started or was updated", doc: rtcTranscodeDoc + "on-demand-transcoding-started", envelope: &rtcTranscodeFamily,
		fields: []fieldRule{
			{name: "TaskId", kind: ruleID, required: true, max: maxIDBytes, role: roleTaskID, key: true},
			{name: "UserId", kind: ruleID, max: maxIDBytes},
			{name: "Sequence", kind: ruleUint, max: maxExactInteger, key: true, orTimestamp: true},
			{name: "Status", kind: ruleID, max: 32, key: true},
			{name: "Details", kind: ruleObject, max: maxObjectBytes, members: transcodeMembers},
		},
		example: []Field{{"TaskId", "2222"}, {"UserId", "2222"}, {"Sequence", "0"}, {"Status", "TranscodeStarted"},
			{"Details", `{"Input":{"StreamId":"2222"},"Outputs":[{"StreamId":"2222","VideoEncId":0,"Fps":0,"ShortEdgeAdaption":0,"Width":1280,"Height":720,"VideoBitrate":0,"GOP":2}]}`}},
	},
	// transcode_stop — On-Demand Transcoding Stopped (single-stream).
	//
	//	TaskId String, UserId String, Sequence Int, Status String (TranscodeStopped;
	//	the example says TranscodeStarted: not checked), StopReason Int (0 user, 1 error)
	//
	// Dedupe key: TaskId and Sequence (of the stop request), the timestamp
	// standing in when Sequence is absent.
	{
		name: "transcode_stop", meaning: "a single-stream transcoding stopped", doc: rtcTranscodeDoc + "on-demand-transcoding-stopped", envelope: &rtcTranscodeFamily,
		fields: []fieldRule{
			{name: "TaskId", kind: ruleID, required: true, max: maxIDBytes, role: roleTaskID, key: true},
			{name: "UserId", kind: ruleID, max: maxIDBytes},
			{name: "Sequence", kind: ruleUint, max: maxExactInteger, key: true, orTimestamp: true},
			{name: "Status", kind: ruleID, max: 32},
			{name: "StopReason", kind: ruleEnum, names: []enumName{{0, "user"}, {1, "error"}}},
		},
		example: []Field{{"TaskId", "2222"}, {"UserId", "2222"}, {"Sequence", "1"}, {"Status", "TranscodeStopped"}, {"StopReason", "0"}},
	},
	moderationResult("censor_audio_v2_result", "an audio stream moderation result", "audio"),
	moderationStatus("censor_audio_v2_status", "an audio stream moderation task's status", "audio"),
	moderationResult("censor_video_v2_audio_result", "a video stream's audio moderation result", "video"),
	moderationResult("censor_video_v2_img_result", "a video stream's image moderation result", "video"),
	moderationStatus("censor_video_v2_audio_status", "a video stream's audio moderation task's status", "video"),
	moderationStatus("censor_video_v2_img_status", "a video stream's image moderation task's status", "video"),
}
