#include "services/query/convert.h"

namespace nenep::services {

v1::Date ToDate(Day day) {
  int y = 0, m = 0, d = 0;
  CivilFromDay(day, &y, &m, &d);
  v1::Date out;
  out.set_year(y);
  out.set_month(m);
  out.set_day(d);
  return out;
}

double Rate(int64_t num, int64_t den) {
  return den == 0 ? 0.0 : static_cast<double>(num) / static_cast<double>(den);
}

void FillUnit(const projections::UnitInfo& info, v1::Unit* out) {
  out->set_unit_id(info.unit_id);
  out->set_name(info.name);
  out->set_short_name(info.short_name);
  out->set_kind(info.kind);
  out->set_setting(info.setting);
  out->set_is_cell(info.is_cell);
  *out->mutable_active_from() = ToDate(info.created);
  if (info.dissolved < kForever)
    *out->mutable_dissolved_on() = ToDate(info.dissolved);
  for (const projections::UnitRef& p : info.parent_chain) {
    v1::UnitRef* ref = out->add_parent_chain();
    ref->set_unit_id(p.unit_id);
    ref->set_name(p.name);
    ref->set_kind(p.kind);
  }
  for (const std::string& id : info.predecessor_ids) {
    out->add_predecessor_unit_ids(id);
  }
  for (const std::string& id : info.successor_ids) {
    out->add_successor_unit_ids(id);
  }
  out->set_children(info.children);
  out->set_cells(info.cells);
  out->set_members(info.members);
}

void FillRollup(const projections::Rollup& r, v1::Rollup* out) {
  out->set_units(r.units);
  out->set_cells(r.cells);
  out->set_members(r.members);
  out->set_sessions_regular(r.sessions_regular);
  out->set_sessions_thematic(r.sessions_thematic);
  out->set_sessions_other(r.sessions_other);
  out->set_sessions_total(r.sessions_total);
  out->set_sessions_hcm(r.sessions_hcm);
  out->set_attendance_present(r.attendance_present);
  out->set_attendance_convened(r.attendance_convened);
  out->set_attendance_rate(Rate(r.attendance_present, r.attendance_convened));
  out->set_regular_cell_months_held(r.regular_cell_months_held);
  out->set_regular_cell_months_active(r.regular_cell_months_active);
  out->set_regular_compliance(
      Rate(r.regular_cell_months_held, r.regular_cell_months_active));
  out->set_thematic_cell_quarters_held(r.thematic_cell_quarters_held);
  out->set_thematic_cell_quarters_active(r.thematic_cell_quarters_active);
  out->set_thematic_compliance(
      Rate(r.thematic_cell_quarters_held, r.thematic_cell_quarters_active));
  out->set_plans_issued(r.plans_issued);
  out->set_child_plans_required(r.child_plans_required);
  out->set_child_plans_on_time(r.child_plans_on_time);
  out->set_child_plan_compliance(
      Rate(r.child_plans_on_time, r.child_plans_required));
  out->set_members_with_commitment(r.members_with_commitment);
  out->set_commitment_registration_rate(
      Rate(r.members_with_commitment, r.members));
  out->set_commitments_registered(r.commitments_registered);
  out->set_commitments_evaluated(r.commitments_evaluated);
  out->set_commitments_fulfilled(r.commitments_fulfilled);
  out->set_awards_bang_khen(r.awards_bang_khen);
  out->set_awards_giay_khen(r.awards_giay_khen);
  out->set_awards_co_thi_dua(r.awards_co_thi_dua);
  out->set_awards_other(r.awards_other);
  out->set_awards_central(r.awards_central);
  out->set_awards_ministry_province(r.awards_ministry_province);
  out->set_awards_upper_base(r.awards_upper_base);
  out->set_awards_base(r.awards_base);
  out->set_award_recipients_collective(r.award_recipients_collective);
  out->set_award_recipients_individual(r.award_recipients_individual);
  out->set_awarded_cells(r.awarded_cells);
  out->set_awarded_cell_rate(Rate(r.awarded_cells, r.cells));
}

}  // namespace nenep::services
