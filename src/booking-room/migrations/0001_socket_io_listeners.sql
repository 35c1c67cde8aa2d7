CREATE TABLE `listeners` (
	`name` text PRIMARY KEY NOT NULL
);
