package projections

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/imattertraining/ledger/domain"
	"github.com/imattertraining/ledger/eventstore"
)

// population records practitioners whose standing, level, roles and
// listings change with the date alone: licences that expire, certification
// years that end with evidence missing, traineeships, suspensions.
func population(t *testing.T, f *fixture) (org uuid.UUID, ids []uuid.UUID, last eventstore.Position) {
	t.Helper()
	org = f.organisation("Example Community Hub", domain.OrgService, "2028-01-01")
	dec := func(exception bool) domain.Decision {
		return domain.Decision{DecidedBy: "Dana Decider", Rationale: "recorded from the paper file", Exception: exception}
	}
	var lastEv eventstore.RecordedEvent
	add := func(id uuid.UUID, on string, ev domain.Event) { lastEv = f.add(PractitionerStream(id), on, ev) }
	for i := range 12 {
		id := f.practitioner(fmt.Sprintf("Practitioner %02d", i), "2029-01-02")
		ids = append(ids, id)
		add(id, "2029-01-03", &domain.PractitionerJoinedOrganisation{OrganisationID: org})
		add(id, "2029-01-04", &domain.SeniorLeadershipSupportRecorded{OrganisationID: org, EndorsedBy: "Service Manager"})
		for _, c := range []domain.Course{domain.CourseFoundationAPart1, domain.CourseFoundationAPart2, domain.CourseFoundationB} {
			add(id, "2029-01-05", &domain.CourseCompleted{Course: c})
		}
		switch i % 6 {
		case 0: // a Lead Professional with a licence that expires, some evidence
			add(id, "2029-02-01", &domain.CertificationAwarded{Role: domain.RoleLeadProfessional, Decision: dec(true)})
			add(id, "2029-02-01", &domain.LicenceGranted{LicenceID: fmt.Sprintf("L3A-%d", i), Kind: domain.LicenceLevel3A, ValidUntil: date("2029-09-30"), Decision: dec(true)})
			add(id, "2029-02-20", &domain.CPDEngagementRecorded{Kind: domain.CPDPractitionerDevelopment, Hours: 2})
			add(id, "2029-03-01", &domain.DirectoryListingConsented{Directory: domain.DirectoryInformed})
		case 1: // a trainee
			add(id, "2029-03-01", &domain.TraineeshipStarted{Role: domain.RoleLeadProfessional})
			add(id, "2029-03-02", &domain.DirectoryListingConsented{Directory: domain.DirectoryInformed})
		case 2: // Level 2, nothing to maintain
			add(id, "2029-04-01", &domain.CourseCompleted{Course: domain.CourseIntermediateA})
			add(id, "2029-04-02", &domain.CourseCompleted{Course: domain.CourseIntermediateB})
		case 3: // a licence suspended, then reinstated
			add(id, "2029-02-01", &domain.LicenceGranted{LicenceID: fmt.Sprintf("L4-%d", i), Kind: domain.LicenceLevel4, ValidUntil: date("2030-01-31"), Decision: dec(true)})
			add(id, "2029-05-01", &domain.LicenceSuspended{LicenceID: fmt.Sprintf("L4-%d", i), Reason: "under review", Decision: dec(true)})
			add(id, "2029-08-01", &domain.LicenceReinstated{LicenceID: fmt.Sprintf("L4-%d", i), Reason: "review done", Decision: dec(true)})
		case 4: // Lead Plus, independent, listed; a future-dated engagement
			add(id, "2029-01-06", &domain.PractitionerDetailsChanged{Independent: ptr(true)})
			add(id, "2029-02-01", &domain.CertificationAwarded{Role: domain.RoleLeadPlus, Decision: dec(true)})
			add(id, "2029-02-02", &domain.DirectoryListingConsented{Directory: domain.DirectoryIndependent})
			add(id, "2029-02-03", &domain.IndemnityInsuranceRecorded{Provider: "Example Mutual", ValidUntil: date("2029-12-31")})
			add(id, "2029-07-15", &domain.CPDEngagementRecorded{Kind: domain.CPDNetworkEngagement})
		case 5: // withdrawn
			add(id, "2029-02-01", &domain.CertificationAwarded{Role: domain.RoleLeadProfessional, Decision: dec(true)})
			add(id, "2029-06-01", &domain.CertificationWithdrawn{Role: domain.RoleLeadProfessional, Reason: "left the programme", Decision: dec(false)})
		}
	}
	return org, ids, lastEv.Position
}

func ptr[T any](v T) *T { return &v }

// listAll pages through ListPractitioners with a small limit, so that the
// cursor is exercised, and returns the ids in order.
func listAll(t *testing.T, ctx context.Context, p *Projector, f Filter, today domain.Date) []uuid.UUID {
	t.Helper()
	f.Limit = 3
	var out []uuid.UUID
	for {
		page, err := p.ListPractitioners(ctx, f, today)
		require.NoError(t, err)
		for _, it := range page.Items {
			out = append(out, it.ID)
		}
		if page.NextCursor == "" {
			return out
		}
		f.Cursor = page.NextCursor
	}
}

// TestListsFollowTheDate moves "today" on through the year and checks, on
// each date, that every list by standing, level and role, the directory and
// the licence register agree with the practitioners' own views as of that
// date: the models re-fold only those whose next change has come, so this
// is what keeps them honest. It then asks for an earlier date again.
func TestListsFollowTheDate(t *testing.T) {
	store := openStore(t, t.TempDir())
	f := newFixture(t, store)
	org, ids, last := population(t, f)
	p, err := New(store, Options{Today: func() domain.Date { return date("2029-01-15") }})
	require.NoError(t, err)
	ctx := runProjector(t, p)
	require.NoError(t, p.WaitFor(ctx, last))
	sorted := slices.Clone(ids)
	slices.SortFunc(sorted, lessID)

	dates := []string{"2029-01-15", "2029-02-15", "2029-06-15", "2029-09-30", "2029-10-01", "2029-11-20", "2030-01-10", "2030-02-15", "2031-03-01", "2029-06-15"}
	seen := map[uuid.UUID]map[string]bool{}
	listed := 0
	for _, ds := range dates {
		today := date(ds)
		t.Run(ds, func(t *testing.T) {
			want := map[string][]uuid.UUID{}
			wantLevel := map[int][]uuid.UUID{}
			wantRole := map[domain.Role][]uuid.UUID{}
			var wantListings []Listing
			for _, id := range sorted {
				v, err := p.Practitioner(ctx, id, today, time.Time{})
				require.NoError(t, err)
				want[v.Standing.Status] = append(want[v.Standing.Status], id)
				wantLevel[v.Level] = append(wantLevel[v.Level], id)
				for _, r := range v.Roles {
					wantRole[r] = append(wantRole[r], id)
				}
				for _, d := range v.Directories {
					wantListings = append(wantListings, Listing{Name: v.Name, Roles: v.Roles, Organisation: "Example Community Hub", Directory: d})
				}
				if seen[id] == nil {
					seen[id] = map[string]bool{}
				}
				seen[id][v.Standing.Status] = true
			}
			for _, s := range standingNames {
				assert.Equal(t, want[s], listAll(t, ctx, p, Filter{Standing: s}, today), "standing %s", s)
			}
			for level := range 6 {
				assert.Equal(t, wantLevel[level], listAll(t, ctx, p, Filter{Level: &level}, today), "level %d", level)
			}
			for _, r := range certifiedRoles {
				assert.Equal(t, wantRole[r], listAll(t, ctx, p, Filter{Role: r}, today), "role %s", r)
			}
			assert.Equal(t, sorted, listAll(t, ctx, p, Filter{OrganisationID: org}, today))
			assert.Empty(t, listAll(t, ctx, p, Filter{OrganisationID: uuid.New()}, today))

			dir, err := p.Directory(ctx, today)
			require.NoError(t, err)
			slices.SortStableFunc(wantListings, func(a, b Listing) int {
				if a.Directory != b.Directory {
					return map[bool]int{true: -1, false: 1}[a.Directory < b.Directory]
				}
				return map[bool]int{true: -1, false: 1}[a.Name < b.Name]
			})
			assert.Equal(t, nonNil(wantListings), dir)
			listed += len(dir)

			lics, err := p.Licences(ctx, 0, today)
			require.NoError(t, err)
			for _, l := range lics {
				v, err := p.Practitioner(ctx, l.HolderID, today, time.Time{})
				require.NoError(t, err)
				i := slices.IndexFunc(v.Licences, func(x LicenceView) bool { return x.LicenceID == l.LicenceID })
				require.GreaterOrEqual(t, i, 0)
				assert.Equal(t, v.Licences[i].Status, l.Status, "licence %s", l.LicenceID)
				assert.Equal(t, today.DaysUntil(l.ValidUntil), l.DaysLeft)
			}
		})
	}
	changed := 0
	for _, statuses := range seen {
		if len(statuses) > 1 {
			changed++
		}
	}
	assert.GreaterOrEqual(t, changed, 3, "the dates chosen must move some standings")
	assert.Positive(t, listed, "some practitioners must be listed on some date")
}

func TestLicenceRegister(t *testing.T) {
	store := openStore(t, t.TempDir())
	f := newFixture(t, store)
	org := f.organisation("Example Academy", domain.OrgSchool, "2028-01-01")
	dec := domain.Decision{DecidedBy: "Dana Decider", Rationale: "commitment on file", Exception: true}
	f.add(OrganisationStream(org), "2029-01-01", &domain.LicenceGranted{LicenceID: "ORG-1", Kind: domain.LicenceOrganisational, ValidUntil: date("2029-12-31"), Decision: dec})
	id := f.practitioner("Lee Example", "2029-01-02")
	f.add(PractitionerStream(id), "2029-02-01", &domain.LicenceGranted{LicenceID: "P-1", Kind: domain.LicenceLevel3A, ValidUntil: date("2029-11-30"), Decision: dec})
	last := f.add(PractitionerStream(id), "2029-02-02", &domain.LicenceGranted{LicenceID: "P-2", Kind: domain.LicenceSpecialist, ValidUntil: date("2031-01-31"), Decision: dec})
	p, err := New(store, Options{Today: func() domain.Date { return date("2029-03-01") }})
	require.NoError(t, err)
	ctx := runProjector(t, p)
	require.NoError(t, p.WaitFor(ctx, last.Position))

	tests := []struct {
		name   string
		today  string
		within int
		want   []string // licence id:status
	}{
		{"all, by expiry", "2029-11-01", 0, []string{"P-1:active", "ORG-1:active", "P-2:active"}},
		{"expiring within 30 days", "2029-11-01", 30, []string{"P-1:active"}},
		{"expiring within 60 days", "2029-11-01", 60, []string{"P-1:active", "ORG-1:active"}},
		{"the day after P-1's valid_until", "2029-12-01", 0, []string{"P-1:expired", "ORG-1:active", "P-2:active"}},
		{"expired licences are not expiring", "2029-12-01", 60, []string{"ORG-1:active"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			items, err := p.Licences(ctx, tc.within, date(tc.today))
			require.NoError(t, err)
			var got []string
			for _, it := range items {
				got = append(got, it.LicenceID+":"+it.Status)
			}
			assert.Equal(t, tc.want, got)
		})
	}
	items, err := p.Licences(ctx, 0, date("2029-11-01"))
	require.NoError(t, err)
	require.Len(t, items, 3)
	assert.Equal(t, "organisation", items[1].HolderType)
	assert.Equal(t, "Example Academy", items[1].HolderName)
	assert.Equal(t, "practitioner", items[0].HolderType)
	assert.Equal(t, id, items[0].HolderID)
}

func TestOrganisationsLookup(t *testing.T) {
	store := openStore(t, t.TempDir())
	f := newFixture(t, store)
	org := f.organisation("Example Surgery", domain.OrgGPPractice, "2029-01-01")
	p, err := New(store, Options{Today: func() domain.Date { return date("2029-03-01") }})
	require.NoError(t, err)
	assert.Nil(t, p.Organisations().Organisation(org), "nothing before the models are built")
	ctx := runProjector(t, p)
	items, err := store.ReadStream(ctx, OrganisationStream(org), eventstore.ReadOptions{})
	require.NoError(t, err)
	require.NoError(t, p.WaitFor(ctx, items[0].Position))
	o := p.Organisations().Organisation(org)
	require.NotNil(t, o)
	assert.Equal(t, "Example Surgery", o.Name)
	assert.Equal(t, domain.OrgGPPractice, o.Kind)
	assert.True(t, o.RegisteredService)
	assert.Nil(t, p.Organisations().Organisation(uuid.New()))
}
