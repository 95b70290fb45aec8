"""Real libpam, in this process, through ctypes: pam_start_confdir with service files from a
private directory and a scripted conversation that records every message the user sees."""
import ctypes
from ctypes import CFUNCTYPE, POINTER, Structure, c_char_p, c_int, c_void_p
from dataclasses import dataclass, field

libpam = ctypes.CDLL("libpam.so.0")
libc = ctypes.CDLL("libc.so.6")
libc.calloc.restype = c_void_p
libc.calloc.argtypes = [ctypes.c_size_t, ctypes.c_size_t]
libc.strdup.restype = c_void_p
libc.strdup.argtypes = [c_char_p]

PAM_SUCCESS = 0
PAM_AUTH_ERR = 7
PAM_AUTHINFO_UNAVAIL = 9
PAM_USER_UNKNOWN = 10
PAM_MAXTRIES = 11
PAM_CONV_ERR = 19
PAM_IGNORE = 25
PAM_SILENT = 0x8000
PAM_RHOST, PAM_TTY = 4, 3
ECHO_OFF, ECHO_ON, ERROR_MSG, TEXT_INFO = 1, 2, 3, 4


class PamMessage(Structure):
    _fields_ = [("msg_style", c_int), ("msg", c_char_p)]


class PamResponse(Structure):
    _fields_ = [("resp", c_void_p), ("resp_retcode", c_int)]


CONV_FUNC = CFUNCTYPE(c_int, c_int, POINTER(POINTER(PamMessage)), POINTER(POINTER(PamResponse)), c_void_p)


class PamConv(Structure):
    _fields_ = [("conv", CONV_FUNC), ("appdata_ptr", c_void_p)]


libpam.pam_start_confdir.argtypes = [c_char_p, c_char_p, POINTER(PamConv), c_char_p, POINTER(c_void_p)]
libpam.pam_authenticate.argtypes = [c_void_p, c_int]
libpam.pam_end.argtypes = [c_void_p, c_int]
libpam.pam_set_item.argtypes = [c_void_p, c_int, c_void_p]
libpam.pam_setcred.argtypes = [c_void_p, c_int]
PAM_ESTABLISH_CRED = 0x0002
libpam.pam_strerror.argtypes = [c_void_p, c_int]
libpam.pam_strerror.restype = c_char_p


@dataclass
class Result:
    status: int
    transcript: list = field(default_factory=list)
    unused: list = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.status == PAM_SUCCESS

    @property
    def prompts(self) -> list:
        return [text for kind, text in self.transcript if kind in ("prompt", "secret")]

    @property
    def infos(self) -> list:
        return [text for kind, text in self.transcript if kind == "info"]

    def __str__(self):
        lines = [f"status {self.status}"] + [f"  {kind}: {text!r}" for kind, text in self.transcript]
        return "\n".join(lines)


def authenticate(service, user, confdir, answers=(), rhost=None, tty="pts/0", flags=0, conversation=True,
                 setcred=True):
    """One pam_start_confdir … pam_authenticate … pam_end transaction, with pam_setcred after
    a successful authentication as login, su and gdm do. `answers` are given to prompts in
    order; a prompt with no answer left fails the conversation (PAM_CONV_ERR), as an
    application whose user walked away would. `answers` may instead be a function of
    (kind, text) returning the answer, or None to fail the conversation: a user who reads
    the prompt before answering. Returns the status of pam_authenticate and the
    transcript: ("secret", text) for echo-off prompts, ("prompt", text), ("info", text),
    ("error", text). Answers left over are in `Result.unused`."""
    respond = answers if callable(answers) else None
    queue = [] if respond else list(answers)
    transcript = []

    def conv(n, msgs, resp, _appdata):
        reply = libc.calloc(n, ctypes.sizeof(PamResponse))
        replies = ctypes.cast(reply, POINTER(PamResponse))
        for i in range(n):
            m = msgs[i].contents
            text = (m.msg or b"").decode()
            if m.msg_style in (ECHO_OFF, ECHO_ON):
                kind = "secret" if m.msg_style == ECHO_OFF else "prompt"
                transcript.append((kind, text))
                answer = respond(kind, text) if respond else (queue.pop(0) if queue else None)
                if answer is None:
                    return PAM_CONV_ERR
                replies[i].resp = libc.strdup(answer.encode())
            elif m.msg_style == TEXT_INFO:
                transcript.append(("info", text))
            elif m.msg_style == ERROR_MSG:
                transcript.append(("error", text))
            else:
                return PAM_CONV_ERR
        resp[0] = replies
        return PAM_SUCCESS

    callback = CONV_FUNC(conv) if conversation else CONV_FUNC()
    pamconv = PamConv(callback, None)
    handle = c_void_p()
    rc = libpam.pam_start_confdir(service.encode(), user.encode(), ctypes.byref(pamconv),
                                  str(confdir).encode(), ctypes.byref(handle))
    if rc != PAM_SUCCESS:
        return Result(rc)
    keep = []
    for item, value in ((PAM_RHOST, rhost), (PAM_TTY, tty)):
        if value is not None:
            buf = ctypes.create_string_buffer(value.encode())
            keep.append(buf)
            libpam.pam_set_item(handle, item, ctypes.cast(buf, c_void_p))
    status = libpam.pam_authenticate(handle, flags)
    if status == PAM_SUCCESS and setcred:
        libpam.pam_setcred(handle, PAM_ESTABLISH_CRED | (flags & PAM_SILENT))
    libpam.pam_end(handle, status)
    result = Result(status, transcript)
    result.unused = queue
    return result
