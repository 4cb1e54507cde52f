package bittensor

import (
	"testing"
	"time"
)

func BenchmarkSignVerify(b *testing.B) {
	kp, _ := KeypairFromURI("//Alice")
	msg := []byte(TransportMessage(1, aliceSS58, bobSS58, "u", EmptyBodyHash))
	b.Run("sign", func(b *testing.B) {
		for b.Loop() {
			_, _ = kp.Sign(msg)
		}
	})
	sig, _ := kp.Sign(msg)
	b.Run("verify", func(b *testing.B) {
		for b.Loop() {
			_ = Verify(kp.Public, msg, sig)
		}
	})
}

func BenchmarkPrepare(b *testing.B) {
	kp, _ := KeypairFromURI("//Alice")
	d, _ := NewDendrite(DendriteOptions{Key: kp})
	info := AxonInfo{Hotkey: bobSS58, IP: "127.0.0.1", Port: 8092}
	for b.Loop() {
		_, _, _ = d.Prepare(info, NewPullTask(), 12*time.Second)
	}
}
