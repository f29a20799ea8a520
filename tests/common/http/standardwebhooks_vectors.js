// Prints the signatures webhook_test.cc pins, made by the Standard Webhooks
// reference library. Not run by the suite (it needs the npm registry);
// regenerate with:
//   mkdir -p /tmp/swh && cd /tmp/swh && npm install standardwebhooks@1.3.0
//   NODE_PATH=/tmp/swh/node_modules node tests/common/http/standardwebhooks_vectors.js
const { Webhook } = require("standardwebhooks");

const vectors = [
  ["whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, '{"test": 2432232314}'],
  ["MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, '{"test": 2432232314}'],
  ["Y2hpbWUtdGVzdC1rZXktMDEyMzQ1Njc4OWFiY2RlZg==", "chime-job-42", 1700000000,
   '{"operation":"process_all_users","timeframeDays":1}'],
  ["Y2hpbWU", "chime-job-7", 1700000000, "{}"],
];
for (const [secret, id, timestamp, body] of vectors) {
  const signature = new Webhook(secret).sign(id, new Date(timestamp * 1000), body);
  console.log(JSON.stringify({ secret, id, timestamp, body, signature }));
}
for (const secret of ["cron-secret-for-tests", "not*base64!", "whsec_"]) {
  try {
    new Webhook(secret);
    console.log(JSON.stringify({ secret, accepted: true }));
  } catch (e) {
    console.log(JSON.stringify({ secret, refused: e.message }));
  }
}
