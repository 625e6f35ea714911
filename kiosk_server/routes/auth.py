from __future__ import annotations

from fastapi import APIRouter, BackgroundTasks, Request, Response, status

from kiosk_server.deps import Argon2Dep, ClockDep, CurrentPerson, DbSession, Terminal
from kiosk_server.notify.outbox import deliver_pending
from kiosk_server.problems import problem_responses
from kiosk_server.routes import API
from kiosk_server.schemas import (
    Identified,
    IdentifyRequest,
    PinSetupGrant,
    PinSetupRequest,
    Session,
    SignInRequest,
    VerificationCodeCheck,
    VerificationCodeRequest,
    VerificationCodeSent,
)
from kiosk_server.services import auth, verification
from kiosk_server.services.devices import site_for_code

router = APIRouter(prefix=f"{API}/auth", tags=["auth"])

_DEVICE = ("device-key-missing", "device-key-invalid", "device-role-forbidden", "validation-failed")


@router.post(
    "/identify",
    responses=problem_responses(
        *_DEVICE, "solution-unknown", "account-unknown", "account-blocked", "terminal-throttled"
    ),
)
async def identify(
    body: IdentifyRequest, session: DbSession, device: Terminal, clock: ClockDep
) -> Identified:
    """Who is there: the state of the account decides what the terminal asks next."""
    return await auth.identify(
        session,
        device=device,
        site=site_for_code(device, body.solution_code),
        identifier=body.identifier,
        now=clock.now(),
    )


@router.post(
    "/verification-codes",
    status_code=status.HTTP_202_ACCEPTED,
    responses=problem_responses(
        *_DEVICE,
        "solution-unknown",
        "account-unknown",
        "account-blocked",
        "account-already-active",
        "no-contact",
        "verification-send-limit",
    ),
)
async def send_verification_code(
    body: VerificationCodeRequest,
    request: Request,
    background: BackgroundTasks,
    session: DbSession,
    device: Terminal,
    clock: ClockDep,
    argon2: Argon2Dep,
) -> VerificationCodeSent:
    """Send a 6-digit code to the account's contact, to activate it or to choose a new PIN."""
    sent = await verification.send_verification_code(
        session,
        device=device,
        site=site_for_code(device, body.solution_code),
        identifier=body.identifier,
        purpose=body.purpose,
        language=body.language,
        argon2=argon2,
        now=clock.now(),
    )
    # Runs after the answer is sent (and after the commit), so the message is there to deliver.
    background.add_task(
        deliver_pending,
        request.app.state.session_factory,
        clock=request.app.state.clock,
        sms_gateway=request.app.state.sms_gateway,
    )
    return sent


@router.post(
    "/verification-codes/check",
    responses=problem_responses(
        *_DEVICE,
        "solution-unknown",
        "account-unknown",
        "account-blocked",
        "verification-code-invalid",
        "verification-code-expired",
    ),
)
async def check_verification_code(
    body: VerificationCodeCheck,
    session: DbSession,
    device: Terminal,
    clock: ClockDep,
    argon2: Argon2Dep,
) -> PinSetupGrant:
    """Check the code the person typed; a match gives a one-time token to choose a PIN."""
    return await verification.check_verification_code(
        session,
        device=device,
        site=site_for_code(device, body.solution_code),
        identifier=body.identifier,
        code=body.code,
        argon2=argon2,
        now=clock.now(),
    )


@router.post(
    "/pin",
    status_code=status.HTTP_201_CREATED,
    responses=problem_responses(
        *_DEVICE, "pin-setup-expired", "pin-malformed", "pin-too-simple", "account-blocked"
    ),
)
async def set_pin(
    body: PinSetupRequest,
    session: DbSession,
    device: Terminal,
    clock: ClockDep,
    argon2: Argon2Dep,
) -> Session:
    """Choose a PIN: activates or unlocks the account, and signs the person in."""
    return await auth.set_pin(
        session,
        device=device,
        pin_setup_token=body.pin_setup_token,
        pin=body.pin,
        argon2=argon2,
        now=clock.now(),
    )


@router.post(
    "/sessions",
    status_code=status.HTTP_201_CREATED,
    responses=problem_responses(
        *_DEVICE,
        "solution-unknown",
        "account-unknown",
        "account-not-active",
        "account-blocked",
        "account-paused",
        "account-locked",
        "pin-incorrect",
        "terminal-throttled",
    ),
)
async def sign_in(
    body: SignInRequest,
    session: DbSession,
    device: Terminal,
    clock: ClockDep,
    argon2: Argon2Dep,
) -> Session:
    """Sign in with identifier and PIN."""
    return await auth.sign_in(
        session,
        device=device,
        site=site_for_code(device, body.solution_code),
        identifier=body.identifier,
        pin=body.pin,
        argon2=argon2,
        now=clock.now(),
    )


@router.delete(
    "/sessions/current",
    status_code=status.HTTP_204_NO_CONTENT,
    response_class=Response,
    responses=problem_responses(*_DEVICE, "session-missing", "session-invalid"),
)
async def sign_out(session: DbSession, person: CurrentPerson, clock: ClockDep) -> None:
    """End the session (the terminal does this at sign-out and when the person leaves)."""
    await auth.sign_out(session, person=person, now=clock.now())
