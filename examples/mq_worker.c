/*
 * mq_worker.c
 *		The worker library of examples/mq_host.c: mq_echo_main attaches to
 *		the segment whose handle is its bgw_main_arg, takes the receiving
 *		end of queue 2*i and the sending end of queue 2*i+1 (i from the
 *		first int of bgw_extra; each queue MQ_EXAMPLE_QUEUE_SIZE bytes), and
 *		sends every message it receives back unchanged, until the host
 *		detaches. A plain C library: it includes no PostgreSQL header and
 *		links nothing (bgworkerd provides libbgworker's functions).
 *
 * Build (as `make examples` does):
 *		cc -shared -fPIC -Iinclude -o mq_worker.so examples/mq_worker.c
 */
#include <stdio.h>
#include <string.h>

#include <bgworker.h>
#include <bgworker_mq.h>

#include "mq_example.h"

void		mq_echo_main(Datum main_arg);

void
mq_echo_main(Datum main_arg)
{
	bgw_segment *seg;
	bgw_mq_handle *in;
	bgw_mq_handle *out;
	int			index;
	long		echoed = 0;

	memcpy(&index, MyBgworkerEntry->bgw_extra, sizeof(index));
	seg = bgw_segment_attach((uint32_t) main_arg);
	if (seg == NULL)
	{
		fprintf(stderr, "mq_worker %d: %s\n", index, bgw_last_error());
		return;
	}
	in = bgw_mq_attach(seg, MQ_EXAMPLE_TO_WORKER(index), BGW_MQ_RECEIVER, NULL);
	out = bgw_mq_attach(seg, MQ_EXAMPLE_FROM_WORKER(index), BGW_MQ_SENDER, NULL);
	if (in == NULL || out == NULL)
		fprintf(stderr, "mq_worker %d: %s\n", index, bgw_last_error());
	else
	{
		for (;;)
		{
			void	   *data;
			size_t		len;
			int			r = bgw_mq_receive(in, &data, &len, 0);

			if (r != BGW_MQ_SUCCESS)
			{
				if (r < 0)
					fprintf(stderr, "mq_worker %d: %s\n", index, bgw_last_error());
				break;
			}
			r = bgw_mq_send(out, data, len, 0);
			if (r != BGW_MQ_SUCCESS)
			{
				if (r < 0)
					fprintf(stderr, "mq_worker %d: %s\n", index, bgw_last_error());
				break;
			}
			echoed++;
		}
	}
	if (in != NULL)
		bgw_mq_detach(in);
	if (out != NULL)
		bgw_mq_detach(out);
	bgw_segment_detach(seg);
	fprintf(stderr, "mq_worker %d: echoed %ld messages\n", index, echoed);
}
