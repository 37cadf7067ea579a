"""Found by the walk: huvudman staff and national admins who type their
credentials at the portal (or E-tjänster) are sent to their own admin site,
not to E-tjänster, which would refuse them too."""

import pytest


@pytest.mark.parametrize(
    ("who", "site"), [("huvudman_staff", "/en/huvudman/"), ("national_admin", "/en/admin/")]
)
@pytest.mark.parametrize("login", ["/en/bedomningsportalen/logga-in/", "/en/e-tjanster/logga-in/"])
def test_staff_credentials_at_a_school_login_lead_to_their_admin_site(
    db, client, request, who, site, login
):
    user = request.getfixturevalue(who)
    response = client.post(
        login, {"username": user.username, "password": f"{user.username}-password-1234"}
    )
    html = response.content.decode()
    assert f'<a class="button" href="{site}">' in html
    assert 'href="/en/e-tjanster/logga-in/"' not in html.split("<main", 1)[-1]
