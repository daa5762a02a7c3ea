// Verifies, with the Standard Webhooks library a backend would use, each
// case in the JSON file named by the first argument: [{secret, headers,
// body}]. Prints one JSON array: "ok", or "refused: <why>", per case.
import { readFileSync } from "node:fs";
import { Webhook } from "standardwebhooks";

const cases = JSON.parse(readFileSync(process.argv[2], "utf8"));
const results = cases.map(({ secret, headers, body }) => {
	try {
		new Webhook(secret).verify(body, headers);
		return "ok";
	} catch (err) {
		return "refused: " + err.message;
	}
});
console.log(JSON.stringify(results));
