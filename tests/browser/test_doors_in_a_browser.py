"""The three doors in a real browser: the desk watches a ticket arrive live and opens its
evidence chart; a technician on a phone takes a job from the work-order link to resolved; a
customer moves their visit from the alert's link and rates it from the follow-up's; and
nobody gets at what is someone else's."""

from __future__ import annotations

import re
import time

import httpx
from playwright.sync_api import Browser, Page, expect

from fieldservice import job_reports, tickets, work_orders
from storage.models import TicketRow, VisitRatingRow
from tests.browser.conftest import PHONE, snap
from tests.doors import World
from tests.people import acting_as, issue_token


def _sign_in_link(world: World, role: str, subject: str, next_path: str) -> str:
    with world.operator() as desk:
        response = desk.post(
            "/api/v1/tokens",
            json={"role": role, "subject": subject, "kind": "link", "next": next_path},
        )
        assert response.status_code == 201, response.text
        url: str = response.json()["sign_in_url"]
        return url


def test_the_desk_sees_a_new_ticket_arrive_without_reloading_and_opens_its_evidence(
    world: World, desktop: Page
) -> None:
    desktop.goto(_sign_in_link(world, "operator", "desk-anna", "/"))
    expect(desktop.get_by_test_id("who")).to_have_text("desk-anna")
    expect(desktop.get_by_test_id("queue")).to_contain_text("No open tickets")
    desktop.evaluate("window.stillTheSamePage = true")

    ticket_id = world.open_ticket("fridge-anna")

    row = desktop.locator(f'[data-testid="queue"] tr[data-ticket-id="{ticket_id}"]')
    expect(row).to_be_visible()  # the queue polls: no reload
    expect(row).to_contain_text("Fridge cooling weak")
    expect(row).to_contain_text("Tech t-wang")
    assert desktop.evaluate("window.stillTheSamePage") is True
    snap(desktop, "console-queue")

    row.get_by_role("link", name=f"#{ticket_id}").click()
    expect(desktop).to_have_url(re.compile(f"/console/tickets/{ticket_id}$"))
    chart = desktop.get_by_test_id("evidence-chart")
    expect(chart).to_have_attribute("data-ready", "true")
    expect(chart).to_have_attribute("data-metrics", re.compile(r"^cabinet_temp_c"))
    expect(chart.locator("canvas").first).to_be_visible()
    assert int(chart.get_attribute("data-points") or 0) > 100
    # Interactive: hovering shows the reading under the cursor in the legend.
    box = chart.locator(".u-over").first.bounding_box()
    assert box is not None
    desktop.mouse.move(box["x"] + box["width"] * 0.9, box["y"] + box["height"] / 2)
    expect(chart.locator(".u-legend .u-series").nth(1).locator(".u-value")).to_have_text(
        re.compile(r"\d")
    )
    snap(desktop, "console-ticket")


def test_a_technician_on_a_phone_takes_the_job_from_the_work_order_link_to_resolved(
    world: World, phone: Page
) -> None:
    ticket_id = world.open_ticket("fridge-anna")
    phone.goto(world.link(ticket_id=ticket_id, audience="technician", kind="work_order"))
    expect(phone).to_have_url(re.compile(f"/tech/jobs/{ticket_id}$"))
    expect(phone.get_by_test_id("job-status")).to_have_text("assigned")
    expect(phone.get_by_test_id("call")).to_have_attribute("href", "tel:+8613900000001")
    expect(phone.get_by_test_id("navigate")).to_have_attribute("href", re.compile(r"^geo:31\.23"))
    expect(phone.get_by_test_id("evidence-chart")).to_have_attribute("data-ready", "true")

    phone.get_by_test_id("move-en_route").tap()
    expect(phone.get_by_test_id("job-status")).to_have_text("en route")
    expect(phone.get_by_test_id("flash")).to_contain_text("customer has been told")
    phone.get_by_test_id("move-on_site").tap()
    expect(phone.get_by_test_id("job-status")).to_have_text("on site")

    checklist = phone.locator('input[name="checklist"]')
    checklist.nth(0).check()
    checklist.nth(1).check()
    phone.locator('input[name="parts_used"][type="checkbox"]').first.check()
    phone.locator('textarea[name="note"]').fill("Leak at the capillary joint; brazed, recharged.")
    snap(phone, "technician-job")
    phone.get_by_test_id("move-resolved").tap()
    expect(phone.get_by_test_id("job-status")).to_have_text("resolved")

    with world.sessions() as session:
        ticket = session.get(TicketRow, ticket_id)
        report = job_reports.get(session=session, ticket_id=ticket_id)
        timeline = tickets.timeline(session=session, ticket_id=ticket_id)
        order = work_orders.get_for_ticket(session=session, ticket_id=ticket_id)
    assert ticket is not None and ticket.status == "resolved"
    assert report is not None and report.checklist_done == [0, 1]
    assert order is not None and report.parts_used == [order.content["parts"][0]]
    assert report.note == "Leak at the capillary joint; brazed, recharged."
    moves = [(e.to_status, e.actor) for e in timeline if e.kind == "status_changed"]
    assert moves == [("en_route", "t-wang"), ("on_site", "t-wang"), ("resolved", "t-wang")]

    phone.goto(world.url + "/tech")
    expect(phone.get_by_test_id("job")).to_contain_text("resolved")
    snap(phone, "technician-day")


def test_a_customer_moves_the_visit_from_the_alert_and_later_rates_it(
    world: World, phone: Page, browser: Browser
) -> None:
    ticket_id = world.open_ticket("fridge-anna")
    phone.goto(world.link(ticket_id=ticket_id, audience="customer", kind="visit_booked"))
    expect(phone).to_have_url(re.compile(f"/my/tickets/{ticket_id}$"))
    expect(phone.get_by_test_id("found")).to_have_text("Fridge losing cooling capacity")
    before = phone.get_by_test_id("window").inner_text()

    phone.get_by_text("Choose another time").tap()
    option = phone.get_by_test_id("window-option").last
    chosen = option.inner_text()
    option.tap()
    expect(phone.get_by_test_id("flash")).to_contain_text("Your visit has moved")
    expect(phone.get_by_test_id("window")).not_to_have_text(before)
    snap(phone, "customer-rescheduled")
    with world.sessions() as session:
        order = work_orders.get_for_ticket(session=session, ticket_id=ticket_id)
    assert order is not None and order.pinned_by == "customer:c-anna"
    assert time.strftime("%H:%M", time.gmtime(order.window_start + 8 * 3600)) in chosen

    # Later: the technician repairs it, the desk closes it, the follow-up arrives.
    with world.operator() as desk:
        with acting_as(desk, issue_token(desk, "technician", "t-wang")) as wang:
            for status in ("en_route", "on_site", "resolved"):
                moved = wang.post(f"/api/v1/tickets/{ticket_id}/events", json={"status": status})
                assert moved.status_code == 200, moved.text
        closed = desk.post(
            f"/api/v1/tickets/{ticket_id}/events",
            json={"status": "closed", "note": "customer confirmed by phone"},
        )
        assert closed.status_code == 200, closed.text
    follow_up = world.link(ticket_id=ticket_id, audience="customer", kind="follow_up")
    assert follow_up.endswith(f"next=/my/tickets/{ticket_id}%23rate")

    # Days later, on another phone: the follow-up's link signs her in again.
    later = browser.new_context(**PHONE)  # type: ignore[arg-type]
    page = later.new_page()
    page.goto(follow_up)
    expect(page).to_have_url(re.compile(f"/my/tickets/{ticket_id}#rate$"))
    expect(page.get_by_test_id("progress")).to_contain_text("Repair confirmed")
    page.locator('label[for="star4"]').tap()
    page.locator('textarea[name="comment"]').fill("Quick and tidy.")
    page.get_by_test_id("send-rating").tap()
    expect(page.get_by_test_id("flash")).to_contain_text("You rated the visit 4 of 5")
    snap(page, "customer-rated")
    later.close()
    with world.sessions() as session:
        rating = session.get(VisitRatingRow, ticket_id)
    assert rating is not None and (rating.stars, rating.comment) == (4, "Quick and tidy.")


def test_nobody_gets_at_what_is_someone_elses(world: World, phone: Page) -> None:
    anna_ticket = world.open_ticket("fridge-anna")
    ben_ticket = world.open_ticket("fridge-ben")
    # The customer, signed in from her alert, asks for the neighbour's appliance.
    phone.goto(world.link(ticket_id=anna_ticket, audience="customer", kind="fault_alert"))
    expect(phone.get_by_test_id("found")).to_be_visible()
    assert phone.request.get(f"{world.url}/api/v1/devices/fridge-anna").status == 200
    assert phone.request.get(f"{world.url}/api/v1/devices/fridge-ben").status == 403
    assert phone.goto(f"{world.url}/my/tickets/{ben_ticket}").status == 403  # type: ignore[union-attr]

    # The technician, signed in from his work order, tries to move the other's job.
    context = phone.context
    context.clear_cookies()
    phone.goto(world.link(ticket_id=anna_ticket, audience="technician", kind="work_order"))
    expect(phone.get_by_test_id("job-status")).to_have_text("assigned")
    csrf = phone.locator('input[name="csrf_token"]').first.get_attribute("value") or ""
    moved = phone.request.post(
        f"{world.url}/api/v1/tickets/{ben_ticket}/events",
        data={"status": "en_route"},
        headers={"X-CSRF-Token": csrf},
    )
    assert moved.status == 403
    tapped = phone.request.post(
        f"{world.url}/tech/jobs/{ben_ticket}/status",
        form={"status": "en_route", "csrf_token": csrf},
    )
    assert tapped.status == 403
    with httpx.Client(base_url=world.url) as anonymous:
        assert anonymous.get(f"/api/v1/tickets/{ben_ticket}").status_code == 401
    with world.sessions() as session:
        ticket = session.get(TicketRow, ben_ticket)
    assert ticket is not None and ticket.status == "assigned"
