// Submit the sign-in form at once; link previews do not run scripts, browsers do.
"use strict";
const form = document.getElementById("signin");
if (form) { form.submit(); }
