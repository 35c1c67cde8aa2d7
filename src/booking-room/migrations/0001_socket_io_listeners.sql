CREATE TABLE `listeners` (
	`hub` integer PRIMARY KEY NOT NULL
);
