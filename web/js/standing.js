// How this worker counts on the table (the server's "standing" event and the snapshot's
// "standing"): a banner while their votes weigh nothing, because their agreement with the table's
// checks fell below the requester's floor (quarantined) or the requester excluded them.

const TEXT = {
  quarantined:
    "Your votes no longer count on this table: too many of them disagreed with the table's checks. " +
    "You can keep voting, but your votes will not change which rows are kept, and your fills are refused.",
  excluded:
    "The requester has excluded you from this table: your votes no longer count, your fills are " +
    "refused and your work here will not be paid.",
};

/** Show or hide the banner (id "standing-banner") for a standing {weight, counted, status}. */
export function showStanding(standing) {
  const banner = document.getElementById("standing-banner");
  if (!banner || !standing) return;
  const text = standing.counted ? null : TEXT[standing.status] || TEXT.quarantined;
  banner.hidden = text === null;
  banner.dataset.status = standing.status || "";
  banner.textContent = text || "";
}
