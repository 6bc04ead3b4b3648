"""Heroku's resources as Launchpad components (pulumiverse-heroku), one per file:

    app.py        HerokuApp: the app (region, stack, buildpack) with its plain and sensitive config vars
    database.py   HerokuDatabase: the heroku-postgresql add-on (Heroku sets DATABASE_URL)
    build.py      HerokuBuild: a build from the source tarball (launchpad/render/heroku_source.py)
    formation.py  HerokuFormation: the web dynos' size and count
    domain.py     HerokuDomain: a custom domain, its certificate from Heroku's ACM

stacks/heroku.py composes them; components/readiness.py gates `pulumi up` on the app's URL.
"""
