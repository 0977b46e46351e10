package zendesktest_test

import (
	"context"
	"encoding/json"
	"fmt"
	"log"
	"net/http"

	"github.com/zgov-io/zgov/zendesk"
	"github.com/zgov-io/zgov/zendesk/zendesktest"
)

// Example starts a simulator seeded with the demo account and lists the
// first page of agents with plain net/http and an API token.
func Example() {
	s, err := zendesktest.NewServer(zendesktest.WithAccount(zendesktest.DemoAccount()))
	if err != nil {
		log.Fatal(err)
	}
	defer s.Close()

	cr := s.Credentials()
	req, err := http.NewRequest("GET", s.URL+"/api/v2/users.json?role=agent&page[size]=3", nil)
	if err != nil {
		log.Fatal(err)
	}
	req.SetBasicAuth(cr.AdminEmail+"/token", cr.APIToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		log.Fatal(err)
	}
	defer resp.Body.Close()

	var page struct {
		Users []struct {
			ID   int64  `json:"id"`
			Name string `json:"name"`
			Role string `json:"role"`
		} `json:"users"`
		Meta struct {
			HasMore bool `json:"has_more"`
		} `json:"meta"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&page); err != nil {
		log.Fatal(err)
	}
	fmt.Println(resp.StatusCode, resp.Header.Get("X-Rate-Limit"))
	for _, u := range page.Users {
		fmt.Println(u.ID, u.Name, u.Role)
	}
	fmt.Println("has more:", page.Meta.HasMore)
	// Output:
	// 200 700
	// 10000000003 Diego Fischer agent
	// 10000000005 Ada Weber agent
	// 10000000011 Xavi Rossi agent
	// has more: true
}

// ExampleNewServer_client points the zendesk client at a simulator seeded
// with the demo account and lists its agents and admins.
func ExampleNewServer_client() {
	s, err := zendesktest.NewServer(zendesktest.WithAccount(zendesktest.DemoAccount()))
	if err != nil {
		log.Fatal(err)
	}
	defer s.Close()

	cr := s.Credentials()
	client, err := zendesk.NewClient(cr.Subdomain,
		zendesk.WithBaseURL(s.URL),
		zendesk.WithAPIToken(cr.AdminEmail, cr.APIToken))
	if err != nil {
		log.Fatal(err)
	}
	ctx := context.Background()
	staff := &zendesk.UserListOptions{Roles: []zendesk.Role{zendesk.RoleAgent, zendesk.RoleAdmin}}
	for u, err := range client.Users.List(ctx, staff) {
		if err != nil {
			log.Fatal(err)
		}
		fmt.Println(u.ID, u.Name, u.Role)
	}
	fmt.Println("requests:", client.RequestCount(), "limit:", client.RateLimit().Limit)

	// Errors are typed: an unknown id is a 404 that errors.Is ErrNotFound.
	_, _, err = client.Users.Get(ctx, 10000009999)
	fmt.Println("not found:", zendesk.IsNotFound(err))
	// Output:
	// 10000000001 Account Owner admin
	// 10000000003 Diego Fischer agent
	// 10000000005 Ada Weber agent
	// 10000000009 Lena Berg admin
	// 10000000011 Xavi Rossi agent
	// 10000000017 Mateo Ito admin
	// 10000000019 Uma Yilmaz agent
	// 10000000027 Sami Tanaka agent
	// 10000000029 Diego Weber agent
	// requests: 1 limit: 700
	// not found: true
}
