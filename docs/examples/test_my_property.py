"""Does my CSMS answer each malformed request with the right error code? `pytest test_my_property.py --ocpp-csms URL`"""

from hypothesis import given
from hypothesis import strategies as st

from chargecore.testing.plugin import OcppStationConfig
from chargecore.testing.station import OcppStation
from chargecore.testing.strategies import NearValidCall, near_valid_calls

HANDLED_BY_MY_CSMS = st.sampled_from(["Authorize", "Heartbeat", "StatusNotification", "TransactionEvent"])


@given(call=HANDLED_BY_MY_CSMS.flatmap(near_valid_calls))
def test_a_request_broken_in_one_place_gets_its_part4_code(
    ocpp_station: OcppStation, ocpp_station_config: OcppStationConfig, call: NearValidCall
) -> None:
    mark = ocpp_station.send_raw(call.text)
    answer = ocpp_station.tap.answer_to(call.message_id, ocpp_station_config.answer_timeout, since=mark)
    assert answer is not None, f"{call.action} with {call.where} unanswered"
    code = answer.decoded()[2] if answer.message_type == 4 else "a CALLRESULT"
    assert code == call.error_code, f"{call.action} with {call.where}: {code}, not {call.error_code}"
