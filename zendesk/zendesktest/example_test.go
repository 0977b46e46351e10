package zendesktest_test

import (
	"encoding/json"
	"fmt"
	"log"
	"net/http"

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
