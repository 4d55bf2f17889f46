// The check-in page (assessments/examday): read the admission ticket's QR code with the phone's camera, decoded
// in the page by the vendored jsQR (static/vendor/jsqr, Apache-2.0), then look the candidate up with the same
// form the typed ticket number uses. Nothing leaves the page but that form.
(function () {
  "use strict";
  var start = document.getElementById("camera-start");
  var video = document.getElementById("camera");
  var canvas = document.getElementById("camera-frame");
  var status = document.getElementById("camera-status");
  var form = document.getElementById("lookup-form");
  var input = document.getElementById("code");
  if (!start || !video || !form) { return; }
  if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia || typeof window.jsQR !== "function") {
    start.hidden = true;
    status.textContent = "此设备无法使用摄像头,请输入准考证号。";
    return;
  }
  var stream = null;
  var context = canvas.getContext("2d", { willReadFrequently: true });

  function stop() {
    if (stream) { stream.getTracks().forEach(function (t) { t.stop(); }); stream = null; }
  }

  function scan() {
    if (!stream) { return; }
    if (video.readyState >= 2 && video.videoWidth) {
      canvas.width = video.videoWidth;
      canvas.height = video.videoHeight;
      context.drawImage(video, 0, 0, canvas.width, canvas.height);
      var image = context.getImageData(0, 0, canvas.width, canvas.height);
      var found = window.jsQR(image.data, image.width, image.height, { inversionAttempts: "dontInvert" });
      if (found && found.data) {
        stop();
        input.value = found.data;
        status.textContent = "已识别准考证,正在查找考生…";
        form.submit();
        return;
      }
    }
    window.requestAnimationFrame(scan);
  }

  start.addEventListener("click", function () {
    status.textContent = "正在打开摄像头…";
    navigator.mediaDevices.getUserMedia({ video: { facingMode: "environment" }, audio: false })
      .then(function (s) {
        stream = s;
        video.srcObject = s;
        video.hidden = false;
        return video.play();
      })
      .then(function () {
        status.textContent = "请将准考证二维码对准摄像头";
        window.requestAnimationFrame(scan);
      })
      .catch(function () {
        stop();
        status.textContent = "无法打开摄像头,请输入准考证号。";
      });
  });
  window.addEventListener("pagehide", stop);
})();
