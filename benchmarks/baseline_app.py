"""The baseline for the check-in benchmark: a bare FastAPI endpoint doing one insert into the
same kind of database, through the same `Database` class the services use."""

import os
import uuid

import uvicorn
from fastapi import FastAPI
from sqlmodel import Field, SQLModel

from botram_runtime.db import Database


class Row(SQLModel, table=True):
    __tablename__ = "baseline_rows"

    id: str = Field(primary_key=True)
    nik: str
    name: str


def create_app(database_url: str) -> FastAPI:
    database = Database(database_url)
    app = FastAPI()

    @app.on_event("startup")
    async def _create() -> None:
        async with database.engine.begin() as connection:
            await connection.run_sync(SQLModel.metadata.create_all)

    @app.get("/readyz")
    async def readyz() -> dict[str, str]:
        return {"status": "ready"}

    @app.post("/v1/check-ins", status_code=201)
    async def check_in(body: dict[str, object]) -> dict[str, str]:
        row = Row(id=str(uuid.uuid4()), nik=str(body["nik"]), name=str(body["name"]))
        async with database.transaction() as session:
            session.add(row)
        return {"id": row.id}

    return app


if __name__ == "__main__":
    uvicorn.run(
        create_app(os.environ["BASELINE_DATABASE_URL"]),
        host="127.0.0.1",
        port=int(os.environ["BASELINE_PORT"]),
        log_level="warning",
    )
