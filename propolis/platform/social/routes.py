from pyramid.config import Configurator


def includeme(config: Configurator) -> None:
    config.add_route("api.feed", "/feed")
    config.add_route("api.topics", "/topics")
    config.add_route("api.topic", "/topics/{name}")
    config.add_route("api.topic.follow", "/topics/{name}/follow")
    config.add_route("api.drafts", "/objects/{object}/drafts")
    config.add_route("api.draft", "/objects/{object}/drafts/{id}")
    config.add_route("api.draft.submit", "/objects/{object}/drafts/{id}/submit")
    config.add_route("api.record.comments", "/objects/{object}/records/{id}/comments")
    config.add_route("api.record.likes", "/objects/{object}/records/{id}/likes")
    config.add_route("api.record.receipt", "/objects/{object}/records/{id}/receipt")
    config.add_route("api.record.receipts",
                     "/objects/{object}/records/{id}/receipts")
    config.add_route("api.record.receipts.remind",
                     "/objects/{object}/records/{id}/receipts/remind")
